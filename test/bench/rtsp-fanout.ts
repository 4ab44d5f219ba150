/**
 * Fan-out of one camera to K readers: a 4 Mbit/s clip pushed once over RTMP to a real slave (the built CLI, role
 * slave) and read by K RTSP readers over TCP interleaved on F1, next to the same clip pushed to nginx-rtmp and read
 * by K RTMP players, in the same run. K goes 1, 10, 50, 100, 200, 400 … (`--max K`, default 400) until both fail.
 * Prints one JSON line:
 *   {"bench":"rtsp-fanout","maxReaders":{cupola,nginx},"figure":{cpuMsPerMbit,…},"reference":{…},"ratio",…,"steps"}
 * "Holds" K = all K readers play, none is dropped, each receives ≥ 0.95 of the bitrate the publisher pushes over the
 * window (`--seconds S`, default 10), and the publisher keeps ≥ 0.98 × real time. CPU = utime + stime of the core +
 * media-plane worker, and of nginx, per delivered Mbit/s. The readers run in one separate Node process (raw sockets
 * that only count bytes, see lib/readers.ts), spread over source addresses 127.0.0.2… (50 each) because the RTSP
 * server admits 100 connections per address; their CPU is reported, not counted. `foreignPct` is what the rest of
 * the machine did meanwhile (other users), and a step that fails while that is high is measured once more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption, ramp } from './lib/args.js';
import { ensureNginx, startNginx, type Nginx } from './lib/nginx.js';
import { onInterrupt, stopChildrenOnSignal } from './lib/proc.js';
import { CpuWindow, round1, round3, sleep } from './lib/proc-stats.js';
import { encodeClip, rateBetween, startPublisher, stopPublishers, type Publisher } from './lib/publisher.js';
import { startReaders, type ReaderSpec } from './lib/readers.js';
import { startSlave, type Slave } from './lib/slave.js';

const MAX = Math.floor(numberOption('max', 400));
const SECONDS = numberOption('seconds', Number(process.env.BENCH_SECONDS) || 10);
const WARMUP_S = 3;
const STEPS = ramp([1, 10, 50, 100, 200, 400, 800], MAX);
const MIN_SPEED = 0.98;
const MIN_READER_RATIO = 0.95;
const CAMERA = 'cam000';
/** Other users' CPU (% of one core) above which a failed step is measured again. */
const NOISY_PCT = 50;

/** What one server did with K readers. */
interface PhaseResult {
  held: boolean;
  cpuPct: number;
  byProcess: Record<string, number>;
  deliveredMbit: number;
  cpuMsPerMbit: number;
  /** Slowest reader's bitrate over the publisher's. */
  minReaderRatio: number;
  publisherSpeed: number;
  readersCpuPct: number;
  machinePct: number;
  foreignPct: number;
  /** DESCRIBE … PLAY (RTMP: handshake … Play.Start) of the readers: median and slowest, in ms. */
  setup: { medianMs: number; maxMs: number };
  why?: string;
  /** Set when a first attempt failed on a noisy machine; this is the second. */
  retried?: boolean;
}

/** A server under test. */
interface Target {
  name: string;
  pids: Record<string, number>;
  publisher: Publisher;
  readers: Omit<ReaderSpec, 'count'>;
}

/** Measures `target` with K readers; `helpers` are the bench's other processes (counted apart from the server). */
async function phase(target: Target, helpers: number[], k: number): Promise<PhaseResult> {
  const readers = await startReaders({ ...target.readers, count: k });
  try {
    await sleep(WARMUP_S * 1000);
    const s0 = await readers.sample();
    const p0 = target.publisher.last();
    const window = new CpuWindow(target.pids, [...helpers, readers.pid]);
    await sleep(SECONDS * 1000);
    const cpu = window.end();
    const s1 = await readers.sample();
    const p1 = target.publisher.last();
    const wallS = (s1.at - s0.at) / 1000;
    const rates = s1.bytes.map((b, i) => ((b - s0.bytes[i]!) * 8) / 1e6 / wallS);
    const pushed = rateBetween(p0, p1);
    const delivered = rates.reduce((a, b) => a + b, 0);
    const minRatio = pushed.mbitPerSecond > 0 ? Math.min(...rates) / pushed.mbitPerSecond : 0;
    const why = [
      readers.failed.length ? `${readers.failed.length} readers did not start (${readers.failed[0]})` : '',
      s1.closed ? `${s1.closed} readers were dropped` : '',
      minRatio < MIN_READER_RATIO ? `the slowest reader got ${minRatio.toFixed(3)} of the stream` : '',
      pushed.speed < MIN_SPEED ? `the publisher ran at ${pushed.speed.toFixed(3)}× real time` : '',
      target.publisher.running() ? '' : 'the publisher exited',
    ].filter(Boolean);
    return {
      held: why.length === 0,
      cpuPct: cpu.cpuPct,
      byProcess: cpu.byProcess,
      deliveredMbit: round1(delivered),
      cpuMsPerMbit: round3((cpu.cpuPct * 10) / Math.max(0.001, delivered)),
      minReaderRatio: round3(minRatio),
      publisherSpeed: round3(pushed.speed),
      readersCpuPct: round1(((s1.cpuMs - s0.cpuMs) / 1000 / wallS) * 100),
      machinePct: cpu.machinePct,
      foreignPct: cpu.foreignPct,
      setup: readers.setup,
      ...(why.length ? { why: why.join('; ') } : {}),
    };
  } finally {
    await readers.stop();
    await sleep(500);
  }
}

async function waitFlowing(publisher: Publisher, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((publisher.last()?.outUs ?? 0) < 3e6) {
    if (!publisher.running()) throw new Error(`${what}: the publisher exited: ${publisher.errors()}`);
    if (Date.now() > deadline) throw new Error(`${what}: the publisher did not get going within 30 s`);
    await sleep(200);
  }
}

stopChildrenOnSignal();
const dir = mkdtempSync(join(tmpdir(), 'cupola-bench-fanout-'));
onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
let slave: Slave | null = null;
let nginx: Nginx | null = null;
const publishers: Publisher[] = [];
try {
  const began = performance.now();
  const log = (line: string) =>
    process.stderr.write(`bench rtsp-fanout [${Math.round((performance.now() - began) / 1000)} s]: ${line}\n`);
  ensureNginx();
  log('encoding the 4 Mbit/s clip (or reusing the one in the temp dir)');
  const clip = encodeClip();
  slave = await startSlave();
  nginx = await startNginx(dir);
  const url = await slave.createCamera(CAMERA);
  const secret = await slave.createToken('bench-readers');
  await sleep(300); // the access tables reach the worker over IPC
  const cupolaPub = startPublisher(clip, [url]);
  const nginxPub = startPublisher(clip, [nginx.url(CAMERA)]);
  publishers.push(cupolaPub, nginxPub);
  await waitFlowing(cupolaPub, 'cupola');
  await waitFlowing(nginxPub, 'nginx');
  const targets: Target[] = [
    {
      name: 'cupola',
      pids: { core: slave.corePid, worker: slave.workerPid },
      publisher: cupolaPub,
      readers: { kind: 'rtsp', port: slave.ports.f1Port, path: CAMERA, password: secret, perAddress: 50 },
    },
    {
      name: 'nginx',
      pids: { nginx: nginx.pid },
      publisher: nginxPub,
      readers: { kind: 'rtmp', port: nginx.port, path: CAMERA, perAddress: 50 },
    },
  ];
  const steps: Array<{ readers: number; cupola?: PhaseResult; nginx?: PhaseResult }> = [];
  /** Server name → why it stopped holding (its first failed step). */
  const failed = new Map<string, string>();
  for (const k of STEPS) {
    const step: (typeof steps)[number] = { readers: k };
    for (const target of targets.filter((t) => !failed.has(t.name))) {
      const helpers = [process.pid, ...publishers.map((p) => p.started.child.pid!)];
      for (const other of targets) if (other !== target) helpers.push(...Object.values(other.pids));
      let result = await phase(target, helpers, k);
      if (!result.held && result.foreignPct >= NOISY_PCT) {
        log(`K=${k} ${target.name} failed (${result.why}) with ${result.foreignPct}% foreign load; again`);
        result = { ...(await phase(target, helpers, k)), retried: true };
      }
      step[target.name as 'cupola' | 'nginx'] = result;
      if (!result.held) failed.set(target.name, `K=${k}: ${result.why}`);
      log(
        `K=${k} ${target.name} ${result.held ? 'held' : `FAILED (${result.why})`} cpu ${result.cpuPct}%` +
          ` delivered ${result.deliveredMbit} Mbit/s (${result.cpuMsPerMbit} ms/Mbit) readers ${result.readersCpuPct}%` +
          ` machine ${result.machinePct}% (foreign ${result.foreignPct}%)`,
      );
    }
    steps.push(step);
    if (failed.size === targets.length) break;
  }
  const maxHeld = (name: 'cupola' | 'nginx') =>
    steps.filter((s) => s[name]?.held).reduce((max, s) => Math.max(max, s.readers), 0);
  const both = steps.filter((s) => s.cupola?.held && s.nginx?.held);
  const at = both[both.length - 1] ?? steps[0]!;
  const foreign = steps.flatMap((s) => [s.cupola?.foreignPct, s.nginx?.foreignPct]).filter((x) => x !== undefined);
  foreign.sort((a, b) => a - b);
  const figure = (r: PhaseResult | undefined) => ({
    cpuMsPerMbit: r?.cpuMsPerMbit ?? null,
    cpuPct: r?.cpuPct ?? null,
    deliveredMbit: r?.deliveredMbit ?? null,
  });
  await stopPublishers(publishers.splice(0));
  const left = await slave.stop();
  slave = null;
  if (left.length > 0) throw new Error(`the slave left processes running after stop: ${left.join(', ')}`);
  const errors = nginx.errors();
  if (errors) process.stderr.write(`bench rtsp-fanout: nginx logged errors:\n${errors}\n`);
  console.log(
    JSON.stringify({
      bench: 'rtsp-fanout',
      maxReaders: { cupola: maxHeld('cupola'), nginx: maxHeld('nginx') },
      limitedBy: { cupola: failed.get('cupola') ?? `--max ${MAX}`, nginx: failed.get('nginx') ?? `--max ${MAX}` },
      figure: { name: 'Cupola slave F1: RTSP over TCP interleaved', ...figure(at.cupola) },
      reference: {
        name: `nginx ${nginx.version} + libnginx-mod-rtmp, one process, RTMP play`,
        why:
          'the same job in C: one RTMP camera in, K TCP copies out of the same media, one event loop; both servers ' +
          'also ingest the camera, and their readers are the same kind of raw byte-counting socket in another process',
        ...figure(at.nginx),
      },
      figureAt: at.readers,
      ratio: round3((at.cupola?.cpuMsPerMbit ?? 0) / Math.max(0.001, at.nginx?.cpuMsPerMbit ?? 0)),
      unit: 'CPU ms per delivered Mbit (ratio = Cupola / nginx at figureAt readers, the largest K both held)',
      input: { mbitPerSecond: round3(clip.mbitPerSecond), clip: clip.description, windowS: SECONDS },
      machine: {
        cores: cpus().length,
        // CPU of other users meanwhile, in % of one core: figures taken while this is high are noisy.
        foreignPct: { median: foreign[foreign.length >> 1] ?? 0, max: foreign[foreign.length - 1] ?? 0 },
      },
      seconds: Math.round((performance.now() - began) / 1000),
      steps,
    }),
  );
} catch (error) {
  process.stderr.write(`bench rtsp-fanout failed: ${error instanceof Error ? error.message : String(error)}\n`);
  if (slave) process.stderr.write(`${await slave.diagnose()}\n`);
  process.exitCode = 1;
} finally {
  await stopPublishers(publishers);
  if (slave) await slave.stop();
  if (nginx) await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
