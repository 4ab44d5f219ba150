/**
 * The fixture of the compressor integration tests: compressor cores following a slave (in-process, or a real
 * `cupola serve` process that a test may kill -9), their jobs over the API, the slave's F2 state from its bus
 * events, and the ffmpeg processes that read a slave's F1.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { BusEvent } from '../../../app/defs/events.js';
import type { JobView } from '../../../app/defs/job.js';
import {
  ADMIN_PASSWORD,
  cliEnv,
  freePort,
  login,
  spawnServe,
  startCore,
  tempDir,
  type Scope,
  type ServeProcess,
  type StartCoreOptions,
  type TestCore,
} from '../../helpers/core.js';
import { api, until } from '../../helpers/http.js';
import { listProcesses, type ProcInfo } from '../../helpers/processes.js';
import { rtmpPushArgs, token, type Slave } from '../slave/slave.js';

/** What every compressor handle offers: its API and an admin token. */
export interface CompressorApi {
  readonly url: string;
  admin: string;
}

/** A compressor core in this process; `events` is every event of its bus since start-up. */
export interface InProcessCompressor extends CompressorApi {
  tc: TestCore;
  events: BusEvent[];
}

/** A compressor as a real `cupola serve` process. */
export interface CompressorProcess extends CompressorApi {
  proc: ServeProcess;
  dataDir: string;
}

/** The slave section of a compressor's config file, with a token of its own on `s`. */
async function slaveSection(s: Slave, name: string): Promise<Record<string, unknown>> {
  const tok = await token(s, name);
  return { compressor: { slaves: [{ url: s.tc.url, token: tok.secret, name: 'site-a' }] } };
}

/**
 * A compressor core following `s` (as `site-a`) with a token of its own; `opts.fileValues` is merged in (its
 * `compressor` section too, with the slave added to it).
 */
export async function startCompressor(
  scope: Scope,
  s: Slave,
  name: string,
  opts: StartCoreOptions = {},
): Promise<InProcessCompressor> {
  const section = await slaveSection(s, name);
  const own = opts.fileValues?.compressor as Record<string, unknown> | undefined;
  const compressor = { ...own, ...(section.compressor as Record<string, unknown>) };
  return startCompressorCore(scope, name, { ...opts, fileValues: { ...opts.fileValues, compressor } });
}

/** A compressor core with the given options (for configs that point at no real slave). */
export async function startCompressorCore(
  scope: Scope,
  name: string,
  opts: StartCoreOptions = {},
): Promise<InProcessCompressor> {
  const tc = await startCore(scope, {
    ...opts,
    flags: { 'node.role': 'compressor', 'node.name': name, ...opts.flags },
  });
  const events: BusEvent[] = [];
  scope.after(tc.core.bus.onAny((e) => events.push(e)));
  const admin = (await login(tc.url)).accessToken;
  return {
    tc,
    events,
    admin,
    get url() {
      return tc.url;
    },
  };
}

/** `cupola serve --role compressor` following `s`; SIGKILLed in `after` if it still runs. Needs a current dist/. */
export async function spawnCompressor(scope: Scope, s: Slave, name: string): Promise<CompressorProcess> {
  // The directories go after the process: `after` hooks run in order and stop at the first that throws, and
  // removing the data dir of a live core can (it writes run/children.json), which would leave the core running.
  const dataDir = tempDir(null, 'cupola-compressor-');
  const home = tempDir(null, 'cupola-home-');
  writeFileSync(join(dataDir, 'cupola.yaml'), stringify(await slaveSection(s, name)));
  const args = ['--data-dir', dataDir, '--role', 'compressor', '--name', name];
  args.push('--set', `api.port=${await freePort()}`, '--set', `auth.adminPassword=${ADMIN_PASSWORD}`);
  const proc = spawnServe(scope, args, cliEnv(home));
  scope.after(() => {
    for (const dir of [dataDir, home]) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  const url = await proc.ready(30_000);
  return { proc, dataDir, url, admin: (await login(url)).accessToken };
}

/** GET /api/v1/jobs of a compressor. */
export async function jobs(c: CompressorApi): Promise<JobView[]> {
  const res = await api(c.url, '/api/v1/jobs', { token: c.admin });
  if (res.status !== 200) throw new Error(`GET /api/v1/jobs: ${res.status} ${res.text}`);
  return (res.json as { jobs: JobView[] }).jobs;
}

/** Cameras whose job runs on `c` (state running), sorted. */
export async function runningCameras(c: CompressorApi): Promise<string[]> {
  return (await jobs(c))
    .filter((j) => j.state === 'running')
    .map((j) => j.camera)
    .sort();
}

/** How many `type` events the slave published for `path` on `plane`. */
export const count = (s: Slave, type: string, plane: string, path: string): number =>
  s.events.filter((e) => {
    const d = e.data as { plane?: string; path?: string };
    return e.type === type && d.plane === plane && d.path === path;
  }).length;

/** True when the slave's last stream event for `path` on `plane` (at or after event index `from`) is online. */
export function onlineSince(s: Slave, plane: 'f1' | 'f2', path: string, from = 0): boolean {
  const last = s.events.slice(from).findLast((e) => {
    const d = e.data as { plane?: string; path?: string };
    return (e.type === 'stream.online' || e.type === 'stream.offline') && d.plane === plane && d.path === path;
  });
  return last?.type === 'stream.online';
}

/** A 1280x720 camera: the reference publisher at 720p. */
export const camera720 = (url: string): string[] =>
  rtmpPushArgs(url).map((a) => a.replace('size=640x360', 'size=1280x720'));

/** Running ffmpeg processes (jobs) whose argv names an RTSP URL on loopback `port` (a slave's F1 port). */
export function ffmpegsReading(port: number): ProcInfo[] {
  return listProcesses().filter(
    (p) =>
      p.state !== 'Z' &&
      p.argv.some((a) => /(^|\/)ffmpeg$/.test(a)) &&
      p.argv.some((a) => a.includes(`127.0.0.1:${port}/`)),
  );
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One line per job of each compressor, for failure messages. */
export async function describeJobs(cs: Record<string, CompressorApi>): Promise<string> {
  const lines = await Promise.all(
    Object.entries(cs).map(async ([name, c]) => {
      const list = await jobs(c).catch((err: unknown) => String(err));
      if (typeof list === 'string') return `${name}: ${list}`;
      const one = (j: JobView) =>
        `${j.camera} ${j.state} (${j.reason ?? ''}) speed ${j.speed?.toFixed(2)} cpu ${j.cpuCores?.toFixed(2)}`;
      return `${name}: ${list.map(one).join('; ') || 'no jobs'}`;
    }),
  );
  return lines.join('\n');
}

/** until(), with the jobs of `cs` in the error when it times out. */
export async function untilJobs<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
  cs: Record<string, CompressorApi>,
): Promise<T> {
  try {
    return await until(fn, timeoutMs, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await describeJobs(cs)}`);
  }
}
