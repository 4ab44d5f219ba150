/**
 * RTMP ingest of a slave: N cameras × 4 Mbit/s pushed to a real slave (the built CLI, role slave), which ingests
 * every camera and bridges it to F1 (FLV → RTP, published on the F1 RTSP server, no reader attached), next to
 * nginx-rtmp ingesting the same N streams in the same run (`live on`, no player). Prints one JSON line:
 *   {"bench":"ingest","maxCameras","perCamera":{cupolaCpuPct,nginxCpuPct,cupolaRssMiB,nginxRssMiB},"ratio",...,"steps"}
 * N goes 5, 10, 20, 40 … (`--max N`, default 320) until the slave no longer holds real time (then one more step
 * halfway back), the bench's own processes (server + publishers) fill 90% of the machine's cores, or the next step
 * would end after `--budget S` (default 285) seconds. "Holds" = every publisher's media clock keeps
 * ≥ 0.98 of the wall clock over the window, and (Cupola) every camera's F1 path takes in ≥ 0.95 as many RTP bytes
 * as its RTMP connection brought over the same reports (≈ 1.0 when the bridge keeps up). CPU = utime + stime over
 * the window (`--seconds S`, default 10) of the core + its media-plane worker, and of nginx; RSS = VmRSS at its end.
 * The publishers (`ffmpeg -re -stream_loop -1 -i clip.flv -c copy`, 8 cameras = 8 RTMP connections per ffmpeg,
 * `--per-process 1` for one each) are not counted but share the machine; `foreignPct` is what the rest of the
 * machine did meanwhile (other users), and a step that fails while that is high is measured once more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption, ramp } from './lib/args.js';
import { ensureNginx, startNginx, type Nginx } from './lib/nginx.js';
import { onInterrupt, stopChildrenOnSignal } from './lib/proc.js';
import { CpuWindow, round1, round3, rssKiB, sleep, type CpuSample } from './lib/proc-stats.js';
import { encodeClip, rateBetween, startPublisher, stopPublishers, type Clip, type Publisher } from './lib/publisher.js';
import { startSlave, type Slave } from './lib/slave.js';

const MAX = Math.floor(numberOption('max', 320));
const SECONDS = numberOption('seconds', Number(process.env.BENCH_SECONDS) || 10);
const WARMUP_S = 2;
/** Cameras per publishing ffmpeg (`--per-process 1` = one ffmpeg per camera; see lib/publisher.ts). */
const PER_PROCESS = Math.floor(numberOption('per-process', 8));
const STEPS = ramp([5, 10, 20, 40, 80, 160, 320, 640], MAX);
const MIN_SPEED = 0.98;
const MIN_F1_RATIO = 0.95;
/** When the server and its publishers use this share of all cores, the bench itself saturates the machine. */
const SATURATED_SHARE = 0.9;
/** No step starts that would likely end after this many seconds of the run (`--budget S`). */
const BUDGET_S = numberOption('budget', 285);
/** Other users' CPU (% of one core) above which a failed step is measured again. */
const NOISY_PCT = 50;

/** What one server did with N cameras. */
interface PhaseResult {
  held: boolean;
  cpuPct: number;
  byProcess: Record<string, number>;
  rssMiB: number;
  machinePct: number;
  /** CPU of the publishers (and of the bench process and the idle other server), in % of one core. */
  publishersPct: number;
  /** CPU of everything else on the machine (other users), in % of one core. */
  foreignPct: number;
  minSpeed: number;
  pushedMbit: number;
  /** Cupola: the lowest F1 RTP-in over pushed-bitrate ratio among the cameras. */
  minF1Ratio?: number;
  why?: string;
  /** Set when a first attempt failed on a noisy machine; this is the second. */
  retried?: boolean;
}

/** Both servers with N cameras. */
interface Step {
  cameras: number;
  cupola: PhaseResult;
  nginx: PhaseResult;
}

/** A server under test: where cameras publish, which pids to measure, and its own check of the window. */
interface Target {
  name: string;
  pids: Record<string, number>;
  /** Makes cameras 0 … n-1 known to the server. */
  prepare?(n: number): Promise<void>;
  /** Publish URLs of cameras 0 … n-1. */
  urls(n: number): Promise<string[]>;
  /** Waits until the server shows n cameras; what went wrong otherwise. */
  ready?(n: number): Promise<string | undefined>;
  sample?(): Promise<unknown>;
  check?(from: unknown, to: unknown, cameras: string[]): { ratio: number; why?: string };
}

/** A phase that failed before its window (publishers or server not ready). */
const NOT_MEASURED: PhaseResult = {
  held: false,
  cpuPct: 0,
  byProcess: {},
  rssMiB: 0,
  machinePct: 0,
  publishersPct: 0,
  foreignPct: 0,
  minSpeed: 0,
  pushedMbit: 0,
};

/** True when the bench's own processes (server + publishers) used nearly every core; other users do not count. */
const saturated = (r: PhaseResult) => r.cpuPct + r.publishersPct >= SATURATED_SHARE * 100 * cpus().length;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const cameraId = (i: number) => `cam${String(i).padStart(3, '0')}`;

/** Waits until every publisher pushes; what went wrong otherwise. */
async function waitPublishing(publishers: Publisher[]): Promise<string | undefined> {
  const deadline = Date.now() + 30_000;
  while (!publishers.every((p) => (p.last()?.outUs ?? 0) > 2e6)) {
    const dead = publishers.find((p) => !p.running());
    if (dead) return `a publisher's connection failed: ${dead.errors().replace(/key=[^\s:]+/g, 'key=…')}`;
    if (Date.now() > deadline) return 'the publishers did not get going within 30 s';
    await sleep(200);
  }
  return undefined;
}

/** Measures `target` with N cameras; `idle` are the other server's pids (helpers of the bench meanwhile). */
async function phase(target: Target, idle: number[], clip: Clip, n: number): Promise<PhaseResult> {
  const urls = await target.urls(n);
  const groups = Array.from({ length: Math.ceil(n / PER_PROCESS) }, (_, g) =>
    urls.slice(g * PER_PROCESS, (g + 1) * PER_PROCESS),
  );
  const publishers: Publisher[] = [];
  try {
    // One ffmpeg after the other, so that the server is not measured on a burst of hundreds of handshakes.
    for (const group of groups) {
      publishers.push(startPublisher(clip, group));
      await sleep(100);
    }
    const setupFailed = (await waitPublishing(publishers)) ?? (await target.ready?.(n));
    if (setupFailed) return { ...NOT_MEASURED, why: setupFailed };
    await sleep(WARMUP_S * 1000);
    const from = publishers.map((p) => p.last());
    const sampleFrom = await target.sample?.();
    const helpers = [process.pid, ...idle, ...publishers.map((p) => p.started.child.pid!)];
    const window = new CpuWindow(target.pids, helpers);
    await sleep(SECONDS * 1000);
    const cpu: CpuSample = window.end();
    const to = publishers.map((p) => p.last());
    const sampleTo = await target.sample?.();
    const rssMiB = Object.values(target.pids).reduce((sum, pid) => sum + rssKiB(pid), 0) / 1024;
    const rates = publishers.map((_, i) => rateBetween(from[i], to[i]));
    const cameras = urls.map((_, i) => cameraId(i));
    const minSpeed = Math.min(...rates.map((r) => r.speed));
    const stopped = publishers.filter((p) => !p.running()).length;
    const own = target.check?.(sampleFrom, sampleTo, cameras);
    const why = [
      stopped > 0 ? `${stopped} publishers exited` : '',
      minSpeed < MIN_SPEED ? `a publisher ran at ${minSpeed.toFixed(3)}× real time` : '',
      own?.why ?? '',
    ].filter(Boolean);
    return {
      held: why.length === 0,
      cpuPct: cpu.cpuPct,
      byProcess: cpu.byProcess,
      rssMiB: round1(rssMiB),
      machinePct: cpu.machinePct,
      publishersPct: cpu.helpersPct,
      foreignPct: cpu.foreignPct,
      minSpeed: round3(minSpeed),
      pushedMbit: round1(rates.reduce((sum, r, i) => sum + r.mbitPerSecond * groups[i]!.length, 0)),
      ...(own ? { minF1Ratio: round3(own.ratio) } : {}),
      ...(why.length ? { why: why.join('; ') } : {}),
    };
  } finally {
    await stopPublishers(publishers);
    await sleep(500); // let the server see the unpublishes before the next phase
  }
}

function cupolaTarget(slave: Slave): Target {
  const urls: string[] = [];
  /** Per F1 path, from one report of the plane: RTP bytes in, RTMP bytes in (same instant), path uptime. */
  type Counters = Map<string, { rtp: number; rtmp: number; ms: number }>;
  const f1 = async (): Promise<Counters> =>
    new Map(
      (await slave.streams())
        .filter((s) => s.plane === 'f1' && s.stats.publisher && s.ingest)
        .map((s) => [s.stats.path, { rtp: s.stats.bytesIn, rtmp: s.ingest!.bytesIn, ms: s.stats.uptimeMs }]),
    );
  return {
    name: 'cupola',
    pids: { core: slave.corePid, worker: slave.workerPid },
    // Cameras are created before their step starts and given a second: the access tables reach the worker over IPC,
    // after the API has answered.
    async prepare(n) {
      if (urls.length >= n) return;
      while (urls.length < n) urls.push(await slave.createCamera(cameraId(urls.length)));
      await sleep(1000);
    },
    async urls(n) {
      return urls.slice(0, n);
    },
    async ready(n) {
      const deadline = Date.now() + 15_000;
      let online = 0;
      while ((online = (await f1()).size) < n) {
        if (Date.now() > deadline) return `${online} of ${n} F1 paths online after 15 s`;
        await sleep(500);
      }
      return undefined;
    },
    sample: f1,
    // F1's RTP in against the RTMP bytes the ingest received over the same reports (the publishers' speed already
    // says whether that was real time): ≈ 1.0 when the bridge keeps up (RTP headers ≈ RTMP chunk headers).
    check(from, to, cameras) {
      let ratio = Infinity;
      let worst = '';
      for (const path of cameras) {
        const a = (from as Counters).get(path);
        const b = (to as Counters).get(path);
        const r = a && b && b.ms > a.ms && b.rtmp > a.rtmp ? (b.rtp - a.rtp) / (b.rtmp - a.rtmp) : 0;
        if (r < ratio) [ratio, worst] = [r, path];
      }
      return ratio >= MIN_F1_RATIO ? { ratio } : { ratio, why: `F1 ${worst} took in ${ratio.toFixed(3)} of its RTMP` };
    },
  };
}

function nginxTarget(nginx: Nginx): Target {
  return {
    name: 'nginx',
    pids: { nginx: nginx.pid },
    urls: async (n) => Array.from({ length: n }, (_, i) => nginx.url(cameraId(i))),
  };
}

stopChildrenOnSignal();
const dir = mkdtempSync(join(tmpdir(), 'cupola-bench-ingest-'));
onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
let slave: Slave | null = null;
let nginx: Nginx | null = null;
try {
  const began = performance.now();
  const log = (line: string) =>
    process.stderr.write(`bench ingest [${Math.round((performance.now() - began) / 1000)} s]: ${line}\n`);
  ensureNginx();
  log('encoding the 4 Mbit/s clip (or reusing the one in the temp dir)');
  const clip = encodeClip();
  slave = await startSlave();
  nginx = await startNginx(dir);
  await sleep(2000);
  const idle = {
    cupola: (rssKiB(slave.corePid) + rssKiB(slave.workerPid)) / 1024,
    nginx: rssKiB(nginx.pid) / 1024,
  };
  const targets = [cupolaTarget(slave), nginxTarget(nginx)];
  log(`slave (pid ${slave.corePid}, worker ${slave.workerPid}) and nginx (pid ${nginx.pid}) are up`);
  let lastStepS = 0;
  /** False when a step as long as the last one (+20%) would end past the budget. */
  const fits = () => (performance.now() - began) / 1000 + 1.2 * lastStepS <= BUDGET_S;
  const measureStep = async (n: number): Promise<Step> => {
    const measure = async (i: number) => {
      const [target, other] = [targets[i]!, targets[1 - i]!];
      const first = await phase(target, Object.values(other.pids), clip, n);
      if (first.held || first.foreignPct < NOISY_PCT || !fits()) return first;
      log(`N=${n} ${target.name} failed (${first.why}) with ${first.foreignPct}% foreign load; again`);
      return { ...(await phase(target, Object.values(other.pids), clip, n)), retried: true };
    };
    for (const target of targets) await target.prepare?.(n);
    const cupola = await measure(0);
    const reference = await measure(1);
    const note = (r: PhaseResult) =>
      `${r.held ? 'held' : `FAILED (${r.why})`} cpu ${r.cpuPct}% rss ${r.rssMiB} MiB machine ${r.machinePct}%` +
      ` (publishers ${r.publishersPct}%, foreign ${r.foreignPct}%)`;
    log(`N=${n} cupola ${note(cupola)} | nginx ${note(reference)}`);
    return { cameras: n, cupola, nginx: reference };
  };
  const steps: Step[] = [];
  let ended = `--max ${MAX}`;
  for (const n of STEPS) {
    if (!fits()) {
      ended = `time budget (--budget ${BUDGET_S} s) before N=${n}`;
      break;
    }
    const stepBegan = performance.now();
    const step = await measureStep(n);
    lastStepS = (performance.now() - stepBegan) / 1000;
    steps.push(step);
    if (!step.cupola.held) {
      ended = `N=${n}: ${step.cupola.why}`;
      // One bisection between the last N held and this one, when it fits.
      const lastHeld = steps.filter((s) => s.cupola.held).at(-1)?.cameras;
      const mid = lastHeld === undefined ? 0 : Math.round((lastHeld + n) / 2 / PER_PROCESS) * PER_PROCESS;
      if (lastHeld !== undefined && mid > lastHeld && mid < n && fits()) {
        const between = await measureStep(mid);
        steps.push(between);
        if (!between.cupola.held) ended = `N=${mid}: ${between.cupola.why}`;
      }
      break;
    }
    if (saturated(step.cupola) || saturated(step.nginx)) {
      const r = saturated(step.cupola) ? step.cupola : step.nginx;
      ended =
        `the bench filled the machine at N=${n}: server ${r.cpuPct}% + publishers ${r.publishersPct}% of one core` +
        ` on ${cpus().length} cores (foreign ${r.foreignPct}%)`;
      break;
    }
  }
  steps.sort((a, b) => a.cameras - b.cameras);
  const held = steps.filter((s) => s.cupola.held);
  const at = held[held.length - 1] ?? steps[0]!;
  const perCamera = {
    cupolaCpuPct: round3(at.cupola.cpuPct / at.cameras),
    nginxCpuPct: round3(at.nginx.cpuPct / at.cameras),
    cupolaRssMiB: round3((at.cupola.rssMiB - idle.cupola) / at.cameras),
    nginxRssMiB: round3((at.nginx.rssMiB - idle.nginx) / at.cameras),
  };
  const foreign = steps.flatMap((s) => [s.cupola.foreignPct, s.nginx.foreignPct]);
  const left = await slave.stop();
  slave = null;
  if (left.length > 0) throw new Error(`the slave left processes running after stop: ${left.join(', ')}`);
  const errors = nginx.errors();
  if (errors) process.stderr.write(`bench ingest: nginx logged errors:\n${errors}\n`);
  console.log(
    JSON.stringify({
      bench: 'ingest',
      maxCameras: held.length ? at.cameras : 0,
      limitedBy: ended,
      perCamera,
      perCameraAt: at.cameras,
      ratio: round3(at.cupola.cpuPct / Math.max(0.1, at.nginx.cpuPct)),
      unit: '% of one core per 4 Mbit/s camera (ratio = Cupola CPU / nginx CPU at perCameraAt cameras)',
      reference: `nginx ${nginx.version} + libnginx-mod-rtmp, one process, live on, no player: ingest only`,
      figure: 'Cupola slave: core + media-plane worker; RTMP ingest + FLV→RTP bridge + F1 publish, no reader',
      idleRssMiB: { cupola: round1(idle.cupola), nginx: round1(idle.nginx) },
      input: {
        mbitPerSecond: round3(clip.mbitPerSecond),
        clip: clip.description,
        windowS: SECONDS,
        camerasPerFfmpeg: PER_PROCESS,
      },
      machine: {
        cores: cpus().length,
        // CPU of other users meanwhile, in % of one core: figures taken while this is high are noisy.
        foreignPct: { median: median(foreign), max: Math.max(...foreign) },
      },
      seconds: Math.round((performance.now() - began) / 1000),
      steps,
    }),
  );
} catch (error) {
  process.stderr.write(`bench ingest failed: ${error instanceof Error ? error.message : String(error)}\n`);
  if (slave) process.stderr.write(`${await slave.diagnose()}\n`);
  process.exitCode = 1;
} finally {
  if (slave) await slave.stop();
  if (nginx) await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
