/**
 * Starts real Cupola cores for tests: in-process (createCore on a temp data dir, port 0, a known admin password)
 * or as the built CLI (`node dist/app/cli.js serve`) in a child process. Everything started is torn down in `after`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { createCore, type Core } from '../../app/core.js';
import { loadConfig } from '../../app/config/load.js';
import type { TokenPair } from '../../app/defs/api.js';
import type { LoggerHandle } from '../../app/log/logger.js';
import { api } from './http.js';

/** Anything with an `after` hook: a TestContext (`t`), or `{ after }` imported from node:test. */
export interface Scope {
  after(fn: () => unknown): void;
}

/** The password test cores are started with (unless told to generate one). */
export const ADMIN_PASSWORD = 'test-admin-password-1';

/** The package root (where package.json and dist/ are). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A fresh temp directory, removed in `after`. */
export function tempDir(scope: Scope | null, prefix = 'cupola-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scope?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Options of startCore. */
export interface StartCoreOptions {
  /** Extra CLI-style flags (dotted path → raw string); these pin the field like `--set` does. */
  flags?: Record<string, string>;
  /** CUPOLA_* environment seen by loadConfig (the test process's own env is never used). */
  env?: NodeJS.ProcessEnv;
  /** Written to `<dataDir>/cupola.yaml` before loading (the file runtime changes persist to). */
  fileValues?: Record<string, unknown>;
  /** SSE heartbeat interval. */
  heartbeatMs?: number;
  /** Admin password; `null` lets the core generate one (then `password` is the generated one). */
  password?: string | null;
  /** Built UI directory to serve; none by default. */
  uiDir?: string | null;
  /** Use this data dir instead of a fresh temp dir (it is not removed). */
  dataDir?: string;
  /** Put api.port in cupola.yaml instead of a flag, so that it can be changed at run time (default: a flag). */
  portInFile?: boolean;
}

/** A running in-process core. */
export interface TestCore {
  core: Core;
  dataDir: string;
  /** `<dataDir>/cupola.yaml`. */
  configFile: string;
  password: string;
  /** The API base URL (read live: an api restart on port 0 moves it). */
  readonly url: string;
  /** Stops the core and removes its data dir; safe to call twice. */
  close(): Promise<void>;
}

/**
 * A logger handle that writes nothing. app/log's silentLogger() writes to stdout once its level is raised, and a PATCH of
 * log.level does raise it; so it is given a destination that drops every line.
 */
export function quietLogger(): LoggerHandle {
  return { log: pino({ level: 'silent' }, { write: () => {} }), close: async () => {} };
}

/** Media ports on free loopback ports, so that cores in tests never collide with each other or a running node. */
export const MEDIA_ON_FREE_PORTS: Record<string, string> = {
  'media.host': '127.0.0.1',
  'rtmp.port': '0',
  'rtsp.f1Port': '0',
  'rtsp.f2Port': '0',
};

/** Whether the config accepts `api.port: 0`; learnt on the first start (config.test.ts has the test that it must). */
let portZeroAccepted: boolean | undefined;

/**
 * Starts a core in this process on a temp data dir, port 0 and a known password; stopped and removed in `after`.
 * While the config schema refuses `api.port: 0` it falls back to a port found free here (retried if taken).
 */
export async function startCore(scope: Scope | null, opts: StartCoreOptions = {}): Promise<TestCore> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cupola-core-'));
  const ownDir = opts.dataDir === undefined;
  const configFile = join(dataDir, 'cupola.yaml');
  if (opts.fileValues) writeFileSync(configFile, stringify(opts.fileValues));
  const password = opts.password === undefined ? ADMIN_PASSWORD : opts.password;
  let core: Core | null = null;
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      try {
        await core?.stop('test done');
      } finally {
        if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      }
    })());
  scope?.after(close);
  for (let attempt = 1; ; attempt++) {
    const port = portZeroAccepted === false ? await freePort() : 0;
    const flags: Record<string, string> = {
      dataDir,
      ...MEDIA_ON_FREE_PORTS,
      ...(opts.portInFile ? {} : { 'api.port': String(port) }),
      ...opts.flags,
    };
    if (opts.portInFile) {
      const api = { ...(opts.fileValues?.api as Record<string, unknown> | undefined), port };
      writeFileSync(configFile, stringify({ ...opts.fileValues, api }));
    }
    if (password !== null) flags['auth.adminPassword'] = password;
    try {
      core = createCore(loadConfig({ env: opts.env ?? {}, flags }), {
        logger: quietLogger(),
        uiDir: opts.uiDir ?? null,
        ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
      });
      await core.start();
      if (port === 0) portZeroAccepted = true;
      break;
    } catch (err) {
      core = null;
      if (port === 0 && portZeroAccepted === undefined && /api\.port: .*got 0\b/.test(String(err))) {
        portZeroAccepted = false;
        continue;
      }
      if (attempt < 3 && !opts.flags?.['api.port'] && /already in use/.test(String(err))) continue;
      await close();
      throw err;
    }
  }
  const running = core;
  const generated = running.takeGeneratedPassword();
  const effective = password ?? generated;
  assert.ok(effective, 'the core generated no admin password');
  return {
    core: running,
    dataDir,
    configFile,
    password: effective,
    get url() {
      return running.url;
    },
    close,
  };
}

/** Logs in as admin over HTTP and returns the token pair (asserts 200). */
export async function login(base: string, password = ADMIN_PASSWORD): Promise<TokenPair> {
  const res = await api(base, '/api/v1/auth/login', { body: { password } });
  assert.equal(res.status, 200, `login failed: ${res.status} ${res.text}`);
  return res.json as TokenPair;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** True when `port` can be bound on 127.0.0.1 right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const srv = createServer();
    srv.once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
}

/** True when a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The built CLI
// ---------------------------------------------------------------------------------------------------------------

/** The built CLI entry point. */
export const CLI = join(PACKAGE_ROOT, 'dist', 'app', 'cli.js');

/** Fails with a clear message when the CLI has not been built (the test runner builds before tests). */
export function assertBuiltCli(): void {
  if (!existsSync(CLI)) {
    assert.fail(
      `${CLI} is missing: build first with \`npx tsc -b tsconfig.json\` (npm test does it before running tests)`,
    );
  }
}

/**
 * app/ sources newer than the last build (a stale build makes CLI tests lie); empty when up to date. tsc leaves
 * unchanged outputs alone, so the build time is that of its build-info file, not of cli.js.
 */
export function staleSources(): string[] {
  if (!existsSync(CLI)) return [];
  const info = join(PACKAGE_ROOT, 'dist', '.tsbuild', 'app.tsbuildinfo');
  const built = statSync(existsSync(info) ? info : CLI).mtimeMs;
  const root = join(PACKAGE_ROOT, 'app');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && statSync(join(root, f)).mtimeMs > built)
    .map((f) => `app/${f}`);
}

/** For a CLI test file's `before`: fails when dist/app is missing, warns on stderr when it is older than app/. */
export function checkBuild(): void {
  assertBuiltCli();
  const stale = staleSources();
  if (stale.length === 0) return;
  const more = stale.length > 3 ? ` and ${stale.length - 3} more` : '';
  process.stderr.write(
    `warning: the build in dist/app is older than ${stale.slice(0, 3).join(', ')}${more}; rebuild with npx tsc -b tsconfig.json\n`,
  );
}

/** The environment for a CLI child: ours without any CUPOLA_* variable, with XDG_DATA_HOME in a temp dir. */
export function cliEnv(xdgDataHome: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CUPOLA_') && k !== 'NODE_OPTIONS') env[k] = v;
  mkdirSync(xdgDataHome, { recursive: true });
  const media = {
    CUPOLA_MEDIA_HOST: '127.0.0.1',
    CUPOLA_RTMP_PORT: '0',
    CUPOLA_RTSP_F1_PORT: '0',
    CUPOLA_RTSP_F2_PORT: '0',
  };
  return { ...env, XDG_DATA_HOME: xdgDataHome, ...media, ...extra };
}

/** The outcome of a CLI run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Runs `node dist/app/cli.js ...args` to completion (killed after `timeoutMs`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<CliResult> {
  assertBuiltCli();
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(
        new Error(`cupola ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      ok({ code, signal, stdout, stderr });
    });
  });
}

/** A `cupola serve` child process. */
export interface ServeProcess {
  child: ChildProcess;
  pid: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited (and its pipes closed). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the `cupola started` log line and GET /health 200; returns the base URL. Rejects if it exits first. */
  ready(timeoutMs?: number): Promise<string>;
  /** Waits until stdout matches `re`. */
  waitStdout(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** Spawns `node dist/app/cli.js serve ...args`; killed (SIGKILL) in `after` if still running. */
export function spawnServe(scope: Scope, args: string[], env: NodeJS.ProcessEnv): ServeProcess {
  assertBuiltCli();
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  let done = false;
  const listeners = new Set<() => void>();
  const poke = () => {
    for (const fn of [...listeners]) fn();
  };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    poke();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    poke();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => {
    child.on('close', (code, signal) => {
      done = true;
      live.delete(child);
      poke();
      ok({ code, signal });
    });
  });
  scope.after(async () => {
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const waitStdout = (re: RegExp, timeoutMs = 10_000) =>
    new Promise<RegExpExecArray>((ok, fail) => {
      const check = () => {
        const m = re.exec(stdout);
        if (m) {
          finish();
          ok(m);
        } else if (done) {
          finish();
          fail(new Error(`cupola serve exited before printing ${re}\nstdout: ${stdout}\nstderr: ${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        fail(
          new Error(`cupola serve did not print ${re} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const proc: ServeProcess = {
    child,
    pid: child.pid!,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitStdout,
    async ready(timeoutMs = 15_000) {
      const m = await waitStdout(/^.*"msg":"cupola started".*$/m, timeoutMs);
      const url = /"url":"(http:\/\/[^"]+)"/.exec(m[0])?.[1];
      assert.ok(url, `no url in the start-up log line: ${m[0]}`);
      const health = await api(url, '/health');
      assert.equal(health.status, 200, `GET /health: ${health.status} ${health.text}`);
      return url;
    },
  };
  return proc;
}

/** Runs one read-only query against a node's database (the way an operator or attacker with the file would). */
export function dbQuery<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(dataDir, 'cupola.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
