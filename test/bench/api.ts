/**
 * Throughput of an authenticated API read (GET /api/v1/node with an API token) on the real core, against a bare
 * Fastify hello world measured in the same run. Prints one JSON line:
 *   {"bench":"api","figure":{"reqPerSec","p99Ms"},"reference":{"reqPerSec","p99Ms"},"ratio","unit"}
 * Each server runs alone in its own process while autocannon loads it from another (10 connections, 10 s after 2 s
 * of warm-up), so the two never share a core with each other.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadOptions, type LoadResult } from './lib/load.js';
import { freePort, start, stop, stopChildrenOnSignal, waitForOk } from './lib/proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'app', 'cli.js');
const LOAD = { connections: 10, durationS: Number(process.env.BENCH_DURATION_S) || 10, warmupS: 2 };

async function json(response: Response, expected: number, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (response.status !== expected) throw new Error(`${what}: HTTP ${response.status} (expected ${expected}): ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Checks that every request of a run succeeded: a figure made of 401s or 429s would be meaningless. */
function checked(result: LoadResult, what: string): LoadResult {
  if (result.non2xx > 0 || result.errors > 0 || result.requests === 0) {
    throw new Error(
      `${what}: ${result.non2xx} non-2xx answers and ${result.errors} errors in ${result.requests} requests`,
    );
  }
  return result;
}

async function measureCupola(): Promise<LoadResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: build the core first (npm run build)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'cupola-bench-'));
  const password = randomBytes(18).toString('base64url');
  const [apiPort, rtmpPort, f1Port, f2Port] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const args = [
    CLI,
    'serve',
    '--data-dir',
    dataDir,
    '--set',
    `api.port=${apiPort}`,
    '--set',
    `auth.adminPassword=${password}`,
    '--set',
    'api.rateLimitPerMinute=1000000',
    // Listeners of other roles get free ports too, so the bench runs beside another Cupola on this machine.
    '--set',
    `rtmp.port=${rtmpPort}`,
    '--set',
    `rtsp.f1Port=${f1Port}`,
    '--set',
    `rtsp.f2Port=${f2Port}`,
  ];
  const core = start(process.execPath, args, { cwd: ROOT });
  try {
    const base = `http://127.0.0.1:${apiPort}`;
    await waitForOk(`${base}/health`, core);
    const login = await json(
      await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password }),
      }),
      200,
      'login',
    );
    const created = await json(
      await fetch(`${base}/api/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${String(login.accessToken)}` },
        body: JSON.stringify({ name: 'bench' }),
      }),
      201,
      'creating an API token',
    );
    const headers = { authorization: `Bearer ${String(created.secret)}` };
    await json(await fetch(`${base}/api/v1/node`, { headers }), 200, 'GET /api/v1/node with the token');
    const options: LoadOptions = { ...LOAD, url: `${base}/api/v1/node`, headers };
    return checked(await runLoad(options), 'cupola GET /api/v1/node');
  } finally {
    const ended = await stop(core);
    if (ended.code !== 0)
      process.stderr.write(`bench: the core ended with ${ended.code ?? ended.signal}:\n${core.tail()}\n`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureReference(): Promise<LoadResult> {
  let port = 0;
  const server = start(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'bench', 'lib', 'hello-server.ts')], {
    cwd: ROOT,
    onStdout: (chunk) => {
      const match = /"port":(\d+)/.exec(chunk);
      if (match) port = Number(match[1]);
    },
  });
  try {
    const deadline = Date.now() + 15_000;
    while (port === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (port === 0) throw new Error(`the reference server did not start:\n${server.tail()}`);
    await waitForOk(`http://127.0.0.1:${port}/`, server);
    return checked(await runLoad({ ...LOAD, url: `http://127.0.0.1:${port}/` }), 'fastify hello world');
  } finally {
    await stop(server);
  }
}

stopChildrenOnSignal();
try {
  const cupola = await measureCupola();
  const reference = await measureReference();
  const figure = (r: LoadResult) => ({ reqPerSec: r.reqPerSec, p99Ms: r.p99Ms });
  console.log(
    JSON.stringify({
      bench: 'api',
      figure: figure(cupola),
      reference: { name: 'fastify hello world', ...figure(reference) },
      ratio: Number((cupola.reqPerSec / reference.reqPerSec).toFixed(3)),
      unit: 'req/s',
      load: { connections: LOAD.connections, durationS: LOAD.durationS, route: 'GET /api/v1/node (API token)' },
    }),
  );
} catch (error) {
  process.stderr.write(`bench api failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
