/**
 * A real Cupola slave for the media benchmarks: the built CLI (`node dist/app/cli.js serve`, role slave) in a child
 * process on free loopback ports, its media-plane worker found through GET /api/v1/children (and checked against
 * /proc), push cameras created with the admin login, and a check that stopping it leaves no process behind.
 * `startSlave({ role: 'master', config })` starts a master the same way (config written to its cupola.yaml).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlaneStream } from '../../../app/media/worker/protocol.js';
import { descendantsOf, isRunning } from '../../helpers/processes.js';
import { freePort, onInterrupt, start, stop, waitForOk, type Started } from './proc.js';
import { sleep } from './proc-stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'dist', 'app', 'cli.js');

/** A running slave. */
export interface Slave {
  started: Started;
  base: string;
  corePid: number;
  workerPid: number;
  ports: { rtmpPort: number; f1Port: number; f2Port: number };
  /** Creates a push camera and returns its publish URL. */
  createCamera(id: string): Promise<string>;
  /** Creates an API token and returns its secret (an RTSP password). */
  createToken(name: string): Promise<string>;
  /** GET /api/v1/streams (the plane reports every 2 s). */
  streams(): Promise<PlaneStream[]>;
  /** GET (or POST `body` to) an API path with the admin login; the parsed JSON answer. */
  api(path: string, body?: unknown): Promise<unknown>;
  /** What went wrong, for an error message: the supervised children as the API reports them, the core's last lines. */
  diagnose(): Promise<string>;
  /** Stops the core; returns the processes it left running (killed here), which would be a defect. */
  stop(): Promise<string[]>;
}

async function call(base: string, path: string, token: string | null, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${path}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/**
 * The environment of the core: ours without CUPOLA_* (its config is given by flags only) or NODE_OPTIONS, except
 * BENCH_NODE_OPTIONS given to the core (and so to its worker) as NODE_OPTIONS: e.g. `--import=<file>` of a file
 * that starts node:inspector's profiler, to see where the time goes.
 */
function coreEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CUPOLA_') && k !== 'NODE_OPTIONS') env[k] = v;
  if (process.env.BENCH_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS;
  return env;
}

/** What to start instead of a plain slave. */
export interface CoreOptions {
  /** `node.role` (default slave). */
  role?: 'slave' | 'master' | 'all';
  /** Written to `<dataDir>/cupola.yaml` (as JSON, which YAML reads), e.g. `{ master: { slaves: [...] } }`. */
  config?: Record<string, unknown>;
  /** More `--set path=value` flags. */
  set?: Record<string, string>;
}

/** Starts a slave (or another role) and waits until its media plane listens. */
export async function startSlave(options: CoreOptions = {}): Promise<Slave> {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: build the core first (npm run build)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'cupola-bench-'));
  const forget = onInterrupt(() => rmSync(dataDir, { recursive: true, force: true }));
  if (options.config) writeFileSync(join(dataDir, 'cupola.yaml'), JSON.stringify(options.config));
  const password = randomBytes(18).toString('base64url');
  const apiPort = await freePort();
  const set = {
    'node.role': options.role ?? 'slave',
    'api.port': String(apiPort),
    'auth.adminPassword': password,
    'api.rateLimitPerMinute': '1000000',
    'media.host': '127.0.0.1',
    'rtmp.port': '0',
    'rtsp.f1Port': '0',
    'rtsp.f2Port': '0',
    'log.level': 'warn',
    ...options.set,
  };
  const args = [
    CLI,
    'serve',
    '--data-dir',
    dataDir,
    ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
  ];
  const started = start(process.execPath, args, { cwd: ROOT, env: coreEnv() });
  const base = `http://127.0.0.1:${apiPort}`;
  const cleanup = async () => {
    await stop(started);
    rmSync(dataDir, { recursive: true, force: true });
    forget();
  };
  try {
    await waitForOk(`${base}/health`, started);
    const login = (await call(base, '/api/v1/auth/login', null, { password })) as { accessToken: string };
    const admin = login.accessToken;
    let media: Slave['ports'] | null = null;
    let workerPid = 0;
    for (let i = 0; i < 100 && (!media || !workerPid); i++) {
      media = ((await call(base, '/api/v1/node', admin)) as { media: Slave['ports'] | null }).media;
      const children = (await call(base, '/api/v1/children', admin)) as {
        children: Array<{ name: string; pid?: number | null }>;
      };
      workerPid = children.children.find((c) => c.name === 'media-plane')?.pid ?? 0;
      if (!media || !workerPid) await sleep(100);
    }
    if (!media || !workerPid) throw new Error(`the media plane did not start:\n${started.tail()}`);
    const corePid = started.child.pid!;
    if (!descendantsOf(corePid).some((p) => p.pid === workerPid)) {
      throw new Error(`pid ${workerPid} of GET /api/v1/children is not a child of the core (pid ${corePid})`);
    }
    const ports = media;
    return {
      started,
      base,
      corePid,
      workerPid,
      ports,
      async createCamera(id) {
        const body = { id, name: id, source: { kind: 'rtmp-push' } };
        const created = (await call(base, '/api/v1/cameras', admin, body)) as { grant: { publishUrl: string } };
        return created.grant.publishUrl;
      },
      async createToken(name) {
        return ((await call(base, '/api/v1/tokens', admin, { name })) as { secret: string }).secret;
      },
      async streams() {
        return ((await call(base, '/api/v1/streams', admin)) as { streams: PlaneStream[] }).streams;
      },
      api: (path, body) => call(base, path, admin, body),
      async diagnose() {
        const children = await call(base, '/api/v1/children', admin).catch((e: unknown) => String(e));
        return `children: ${JSON.stringify(children)}\ncore output:\n${started.tail()}`;
      },
      async stop() {
        const family = [corePid, ...descendantsOf(corePid).map((p) => p.pid)];
        const ended = await stop(started);
        if (ended.code !== 0) process.stderr.write(`bench: the core ended with ${ended.code ?? ended.signal}\n`);
        const left: string[] = [];
        for (let i = 0; i < 50; i++) {
          if (!family.some(isRunning)) break;
          await sleep(100);
        }
        for (const pid of family.filter(isRunning)) {
          left.push(`pid ${pid}`);
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        rmSync(dataDir, { recursive: true, force: true });
        forget();
        return left;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
