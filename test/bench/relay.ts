/**
 * The slave → master relay: N cameras (`--cameras N`, default 8) × 4 Mbit/s pushed over RTMP to a real slave (the
 * built CLI, role slave) and relayed by a real master (role master, `master.slaves` = that slave, site `bench`),
 * whose media-plane worker pulls each camera's F1 over RTSP and serves it as `bench/<camera>` on F1 RTSP and RTMP.
 * Reference in the same run, on the same slave: the process-per-relay alternative, one
 * `ffmpeg -rtsp_transport tcp -i <slave F1> -c copy -f flv rtmp://<nginx>/live/<camera>` per camera into nginx-rtmp.
 * Prints one JSON line:
 *   {"bench":"relay","figure":{cpuMsPerMbit,addedLatencyMs:{rtsp,rtmp}},"reference":{…},"ratio",…}
 * CPU (`--rounds R` windows of `--seconds S`, default 2 × 15 s, no reader attached): utime + stime of the master's
 * media-plane worker (/proc/<pid>/stat), and of the N relay ffmpeg + nginx, per relayed Mbit (the publisher's FLV
 * bytes × N over the window; checked against the bytes the worker read from its sockets, /proc/<pid>/io rchar, and
 * the reference relays' own output). ratio = Cupola / reference.
 * Latency (`--latency-seconds L`, default 30), without Cupola's figures: the clip carries its frame number in the
 * picture (lib/frame-code.ts); ffmpeg readers of camera 0 decode it from the slave's F1 (RTSP, twice: the second is a
 * control of the method, ≈ 0), the master's F1 (RTSP) and RTMP, and nginx's RTMP, and the bench notes when each
 * frame arrived. Added latency = arrival at a downstream reader − arrival at the slave reader of the same frame (the
 * readers are alike, see startCodeReader, so their decoding cancels out). RTSP
 * readers see a frame only when the next one's first packet arrives (ffmpeg's H.264 parser closes a frame there),
 * RTMP readers get whole frames: RTMP figures against the RTSP slave reader come out about one frame interval
 * (40 ms) low, so RTMP is also compared directly, master RTMP against nginx RTMP (`rtmpVsReferenceMs`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterRelay } from '../../app/roles/master.js';
import { numberOption } from './lib/args.js';
import { addedLatency, encodeCodedClip, quantile, startCodeReader, type CodeReader } from './lib/frame-code.js';
import { ensureNginx, startNginx, type Nginx } from './lib/nginx.js';
import { startFfmpegRelay, type FfmpegRelay } from './lib/ffmpeg-relay.js';
import { onInterrupt, stop, stopChildrenOnSignal } from './lib/proc.js';
import { CpuWindow, readBytes, round1, round3, sleep } from './lib/proc-stats.js';
import { rateBetween, startPublisher, stopPublishers, type Publisher } from './lib/publisher.js';
import { startSlave, type Slave } from './lib/slave.js';

const CAMERAS = Math.floor(numberOption('cameras', 8));
const SECONDS = numberOption('seconds', Number(process.env.BENCH_SECONDS) || 15);
const ROUNDS = Math.floor(numberOption('rounds', 2));
const LATENCY_S = numberOption('latency-seconds', 30);
const WARMUP_S = 5;
const SITE = 'bench';
const WIDTH = 1280;

const began = performance.now();
const log = (line: string) =>
  process.stderr.write(`bench relay [${Math.round((performance.now() - began) / 1000)} s]: ${line}\n`);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const cameraId = (i: number) => `cam${String(i).padStart(3, '0')}`;
/** An API token's id: the RTSP Digest user name of that token (cpt_<id>_<secret>). */
const tokenId = (secret: string) => secret.slice(4, 16);

async function relays(master: Slave): Promise<MasterRelay[]> {
  return ((await master.api('/api/v1/relays')) as { relays: MasterRelay[] }).relays;
}

/** Waits until `ok()` holds, polling every 500 ms; throws `what` after `timeoutMs`. */
async function until(ok: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what()} (after ${timeoutMs / 1000} s)`);
    await sleep(500);
  }
}

/** One CPU window: both sides measured at the same time. */
async function cpuRound(
  master: Slave,
  refRelays: FfmpegRelay[],
  nginx: Nginx,
  publisher: Publisher,
  helpers: number[],
) {
  const before = await relays(master);
  const p0 = publisher.last();
  const r0 = refRelays.map((r) => r.last);
  const rchar0 = readBytes(master.workerPid);
  const refPids: Record<string, number> = { nginx: nginx.pid };
  refRelays.forEach((r, i) => (refPids[`ffmpeg${i}`] = r.started.child.pid!));
  const cupolaWindow = new CpuWindow({ worker: master.workerPid, core: master.corePid }, [
    ...helpers,
    ...Object.values(refPids),
  ]);
  const refWindow = new CpuWindow(refPids, [...helpers, master.workerPid, master.corePid]);
  await sleep(SECONDS * 1000);
  const cupola = cupolaWindow.end();
  const ref = refWindow.end();
  const rchar1 = readBytes(master.workerPid);
  const p1 = publisher.last();
  const after = await relays(master);
  const pushed = rateBetween(p0, p1);
  const relayedMbit = pushed.mbitPerSecond * CAMERAS;
  const refRates = refRelays.map((r, i) => rateBetween(r0[i], r.last));
  const refMbit = refRates.reduce((s, r) => s + r.mbitPerSecond, 0);
  const problems = [
    pushed.speed < 0.98 ? `the publisher ran at ${pushed.speed.toFixed(3)}× real time` : '',
    after.filter((r) => r.plane === 'f1' && r.state === 'playing').length < CAMERAS ? 'a relay is not playing' : '',
    after.some((r) => r.reconnects !== before.find((b) => b.path === r.path && b.plane === r.plane)?.reconnects)
      ? 'a relay reconnected'
      : '',
    refRates.some((r) => r.speed < 0.98)
      ? `a reference relay ran at ${Math.min(...refRates.map((r) => r.speed)).toFixed(3)}× real time`
      : '',
  ].filter(Boolean);
  const workerReadMbit = ((rchar1 - rchar0) * 8) / 1e6 / cupola.seconds;
  return {
    relayedMbit: round1(relayedMbit),
    publisherSpeed: round3(pushed.speed),
    cupola: {
      workerPct: cupola.byProcess.worker!,
      corePct: cupola.byProcess.core!,
      cpuMsPerMbit: round3((cupola.byProcess.worker! * 10) / relayedMbit),
      /** Bytes the worker read from its sockets over the relayed bytes: ≈ 1 (+ RTP/RTSP framing) if all arrived. */
      workerReadRatio: round3(workerReadMbit / relayedMbit),
    },
    reference: {
      cpuPct: ref.cpuPct,
      ffmpegPct: round1(ref.cpuPct - ref.byProcess.nginx!),
      nginxPct: ref.byProcess.nginx!,
      cpuMsPerMbit: round3((ref.cpuPct * 10) / relayedMbit),
      /** What the relay ffmpegs wrote (FLV) over what was pushed: ≈ 1 when every relay keeps up. */
      outputRatio: round3(refMbit / relayedMbit),
    },
    machinePct: cupola.machinePct,
    helpersPct: cupola.helpersPct,
    foreignPct: cupola.foreignPct,
    loadavg: loadavg(),
    ...(problems.length > 0 && { why: problems.join('; ') }),
  };
}

/** Added latency of `later` over `first` as p50 / p95 / min / max (ms) with the frame counts. */
function latencyFigure(first: CodeReader, later: CodeReader, from: number, to: number) {
  const r = addedLatency(first.frames, later.frames, from, to);
  return {
    p50: round1(quantile(r.deltas, 0.5)),
    p95: round1(quantile(r.deltas, 0.95)),
    min: round1(Math.min(...r.deltas)),
    max: round1(Math.max(...r.deltas)),
    frames: r.frames,
    matched: r.deltas.length,
    unmatched: r.unmatched,
    unreadable: r.unreadable,
    lost: r.lost,
  };
}

stopChildrenOnSignal();
const dir = mkdtempSync(join(tmpdir(), 'cupola-bench-relay-'));
onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
let slave: Slave | null = null;
let master: Slave | null = null;
let nginx: Nginx | null = null;
const publishers: Publisher[] = [];
const refRelays: FfmpegRelay[] = [];
const readers: CodeReader[] = [];
try {
  const loadStart = loadavg();
  ensureNginx();
  log('encoding the coded 4 Mbit/s clip (or reusing the one in the temp dir)');
  const clip = encodeCodedClip();
  slave = await startSlave();
  nginx = await startNginx(dir);
  const cameras = Array.from({ length: CAMERAS }, (_, i) => cameraId(i));
  const urls: string[] = [];
  for (const id of cameras) urls.push(await slave.createCamera(id));
  const slaveToken = await slave.createToken('bench-master');
  const slaveAuth = `${tokenId(slaveToken)}:${slaveToken}`;
  const slaveF1 = (camera: string) => `rtsp://${slaveAuth}@127.0.0.1:${slave!.ports.f1Port}/${camera}`;
  master = await startSlave({
    role: 'master',
    config: { master: { slaves: [{ url: slave.base, token: slaveToken, site: SITE }] } },
  });
  const masterToken = await master.createToken('bench-readers');
  await sleep(300); // the access tables reach the workers over IPC
  const publisher = startPublisher(clip, urls);
  publishers.push(publisher);
  await until(
    () => (publisher.last()?.outUs ?? 0) > 2e6 || !publisher.running(),
    30_000,
    () => 'the publisher did not get going',
  );
  if (!publisher.running()) throw new Error(`the publisher exited: ${publisher.errors()}`);
  const m = master;
  await until(
    async () => (await relays(m)).filter((r) => r.plane === 'f1' && r.state === 'playing').length === CAMERAS,
    60_000,
    () => `the master does not relay all ${CAMERAS} cameras`,
  );
  log(`the master relays ${CAMERAS} cameras; starting ${CAMERAS} reference relays`);
  for (const id of cameras) refRelays.push(startFfmpegRelay(slaveF1(id), nginx.url(id)));
  await until(
    () => refRelays.every((r) => (r.last?.outUs ?? 0) > 2e6),
    30_000,
    () => `the reference relays did not get going: ${refRelays.map((r) => r.started.tail()).join(' | ')}`,
  );
  await sleep(WARMUP_S * 1000);

  const helpers = [process.pid, slave.corePid, slave.workerPid, publisher.started.child.pid!];
  const rounds: Array<Awaited<ReturnType<typeof cpuRound>>> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await cpuRound(master, refRelays, nginx, publisher, helpers);
    log(
      `CPU round ${i + 1}: relayed ${r.relayedMbit} Mbit/s; master worker ${r.cupola.workerPct}% ` +
        `(${r.cupola.cpuMsPerMbit} ms/Mbit, core ${r.cupola.corePct}%), reference ${r.reference.cpuPct}% ` +
        `(ffmpeg ${r.reference.ffmpegPct}% + nginx ${r.reference.nginxPct}%, ${r.reference.cpuMsPerMbit} ms/Mbit); ` +
        `machine ${r.machinePct}%, foreign ${r.foreignPct}%, load ${r.loadavg.join(' ')}${r.why ? `; ${r.why}` : ''}`,
    );
    rounds.push(r);
  }

  log(`latency: 5 readers of ${cameras[0]} for ${LATENCY_S} s`);
  const cam = cameras[0]!;
  const tcp = ['-rtsp_transport', 'tcp'];
  const masterAuth = `${tokenId(masterToken)}:${masterToken}`;
  const at = {
    slave: startCodeReader('slave F1 RTSP', slaveF1(cam), WIDTH, tcp),
    control: startCodeReader('slave F1 RTSP (control)', slaveF1(cam), WIDTH, tcp),
    masterRtsp: startCodeReader(
      'master F1 RTSP',
      `rtsp://${masterAuth}@127.0.0.1:${master.ports.f1Port}/${SITE}/${cam}`,
      WIDTH,
      tcp,
    ),
    masterRtmp: startCodeReader(
      'master RTMP',
      `rtmp://127.0.0.1:${master.ports.rtmpPort}/${SITE}/${cam}?token=${masterToken}`,
      WIDTH,
    ),
    nginx: startCodeReader('nginx RTMP', nginx.url(cam), WIDTH),
  };
  readers.push(...Object.values(at));
  await until(
    () => readers.every((r) => r.frames.length > 25 || !r.running()),
    30_000,
    () => `a reader got no frames: ${readers.map((r) => `${r.name}: ${r.frames.length}`).join(', ')}`,
  );
  const dead = readers.find((r) => !r.running());
  if (dead) {
    const tail = dead.started.tail().split(masterToken).join('***').split(slaveToken).join('***');
    throw new Error(`the ${dead.name} reader exited: ${tail}`);
  }
  await sleep(3000);
  const from = performance.now();
  const loadLatency = loadavg();
  await sleep(LATENCY_S * 1000);
  const to = performance.now();
  for (const r of readers.splice(0)) await r.stop();
  const slaveFrames = at.slave.frames.filter((f) => f.at >= from && f.at <= to);
  const latency = {
    control: latencyFigure(at.slave, at.control, from, to),
    masterRtsp: latencyFigure(at.slave, at.masterRtsp, from, to),
    masterRtmp: latencyFigure(at.slave, at.masterRtmp, from, to),
    nginxRtmp: latencyFigure(at.slave, at.nginx, from, to),
    /** The same frame at the master's RTMP reader − at nginx's: negative when Cupola's relay is the quicker. */
    rtmpVsReference: latencyFigure(at.nginx, at.masterRtmp, from, to),
  };
  log(`latency: ${JSON.stringify(latency)}`);

  const mean = (f: (r: (typeof rounds)[number]) => number) => rounds.reduce((s, r) => s + f(r), 0) / rounds.length;
  const cupolaMs = mean((r) => r.cupola.cpuMsPerMbit);
  const refMs = mean((r) => r.reference.cpuMsPerMbit);
  const ffmpegOnlyMs = mean((r) => (r.reference.ffmpegPct * 10) / r.relayedMbit);
  const why = rounds.map((r) => r.why).filter(Boolean);

  for (const r of refRelays.splice(0)) await stop(r.started, 3000);
  await stopPublishers(publishers.splice(0));
  const left = [...(await master.stop()), ...(await slave.stop())];
  master = null;
  slave = null;
  if (left.length > 0) throw new Error(`a core left processes running after stop: ${left.join(', ')}`);
  const errors = nginx.errors();
  if (errors) process.stderr.write(`bench relay: nginx logged errors:\n${errors}\n`);
  const p = (x: { p50: number; p95: number }) => ({ p50: x.p50, p95: x.p95 });
  console.log(
    JSON.stringify({
      bench: 'relay',
      figure: {
        name: 'Cupola master: one RTSP puller per camera in the media-plane worker, served on F1 RTSP and RTMP',
        cpuMsPerMbit: round3(cupolaMs),
        workerPct: round1(mean((r) => r.cupola.workerPct)),
        corePct: round1(mean((r) => r.cupola.corePct)),
        addedLatencyMs: { rtsp: p(latency.masterRtsp), rtmp: p(latency.masterRtmp) },
      },
      reference: {
        name:
          'one ffmpeg per camera (-rtsp_transport tcp -i <slave F1> -c copy -f flv) into ' +
          `nginx ${nginx.version} + libnginx-mod-rtmp`,
        why:
          'the process-per-relay alternative doing the same job: pull every camera from the slave and serve it ' +
          'again from one server; its CPU is the relay ffmpegs plus nginx (ingest only, like the master with no ' +
          'reader)',
        cpuMsPerMbit: round3(refMs),
        cpuMsPerMbitFfmpegOnly: round3(ffmpegOnlyMs),
        cpuPct: round1(mean((r) => r.reference.cpuPct)),
        addedLatencyMs: { rtmp: p(latency.nginxRtmp) },
      },
      ratio: round3(cupolaMs / refMs),
      ratioFfmpegOnly: round3(cupolaMs / ffmpegOnlyMs),
      rtmpVsReferenceMs: p(latency.rtmpVsReference),
      latencyNote:
        'RTSP readers (the slave reader, and the reference relay ffmpeg) hold each frame until the next one starts ' +
        "(ffmpeg's H.264 parser); RTMP readers get whole frames, so RTMP figures against the slave reader come out " +
        'about one frame interval (40 ms) low; rtmpVsReferenceMs compares the two RTMP readers directly',
      unit:
        'CPU ms per relayed Mbit (ratio = Cupola master worker / reference relays + nginx); added latency in ms ' +
        '(arrival of a frame number at the downstream reader − at the slave F1 reader)',
      relayedMbit: round1(mean((r) => r.relayedMbit)),
      cameras: CAMERAS,
      input: { mbitPerSecond: round3(clip.mbitPerSecond), clip: clip.description },
      latency: {
        camera: cam,
        seconds: round1((to - from) / 1000),
        slaveReaderFps: round1(slaveFrames.length / ((to - from) / 1000)),
        ...latency,
      },
      rounds,
      windowS: SECONDS,
      machine: { cores: cpus().length, loadavg: { start: loadStart, latency: loadLatency, end: loadavg() } },
      seconds: Math.round((performance.now() - began) / 1000),
      ...(why.length > 0 && { why }),
    }),
  );
} catch (error) {
  process.stderr.write(`bench relay failed: ${error instanceof Error ? error.message : String(error)}\n`);
  if (slave) process.stderr.write(`slave: ${await slave.diagnose()}\n`);
  if (master) process.stderr.write(`master: ${await master.diagnose()}\n`);
  process.exitCode = 1;
} finally {
  for (const r of readers) await r.stop();
  for (const r of refRelays) await stop(r.started, 3000);
  await stopPublishers(publishers);
  if (master) await master.stop();
  if (slave) await slave.stop();
  if (nginx) await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
