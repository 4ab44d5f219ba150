/** Starts a real `cupola serve` child on a free loopback port for e2e tests, and stops it for sure. */
import { MEDIA_ON_FREE_PORTS } from '../../helpers/core.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Repository root (tests run from it, but do not rely on cwd). */
export const ROOT = join(import.meta.dirname, '..', '..', '..');

/** A running core child. */
export interface CoreProcess {
  url: string;
  password: string;
  /** The child's stdout+stderr so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Fails with a clear message when the build the tests need is missing. */
export function requireBuilt(...relPaths: string[]): void {
  const missing = relPaths.filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length) {
    throw new Error(
      `missing build output: ${missing.join(', ')}. Build first: npx tsc -b tsconfig.json && npx vite build --config renderer/vite.config.ts`,
    );
  }
}

/** Our environment minus CUPOLA_* config (it would override the test's flags) and NODE_OPTIONS; the test runner's
 * run marker stays so that its leftover-process check can still attribute the child. */
function childEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((k.startsWith('CUPOLA_') && k !== 'CUPOLA_TEST_RUN_ID') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, XDG_DATA_HOME: dataDir };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

/** Spawns `node dist/app/cli.js serve` with its own data dir and waits until /health answers ok. `appDir` is the
 * directory holding package.json and dist/ (the repo, or an extracted app.asar). */
export async function startCoreProcess(sets: Record<string, string> = {}, appDir = ROOT): Promise<CoreProcess> {
  if (appDir === ROOT) requireBuilt('dist/app/cli.js', 'dist/renderer/index.html');
  const dataDir = mkdtempSync(join(tmpdir(), 'cupola-e2e-'));
  const port = await freePort();
  const password = 'e2e-correct-horse';
  const all = { 'api.port': String(port), 'auth.adminPassword': password, ...MEDIA_ON_FREE_PORTS, ...sets };
  const args = [
    'dist/app/cli.js',
    'serve',
    '--data-dir',
    dataDir,
    ...Object.entries(all).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: appDir,
    env: childEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return { url, password, output: () => log, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  await stop();
  throw new Error(`core did not become healthy at ${url}:\n${log}`);
}
