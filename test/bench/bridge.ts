/**
 * Cost of the F1 bridge: FLV tags of a 4 Mbit/s camera (1280x720 25 fps H.264 + AAC, made once by ffmpeg) turned
 * into RTP packets + RTCP by FlvToRtpBridge with a sink that only counts, in a loop. Prints one JSON line:
 *   {"bench":"bridge","figure":{"mbitPerCpuSecond","camerasPerCore"},"reference":{"mbitPerCpuSecond"},"ratio",...}
 * Reference, measured in the same run on the same tags: copying every tag body into a new buffer, the least any
 * bridge must do with the bytes. ratio = figure / reference: 1 would mean packetizing costs no more than one copy
 * of the payload; 0.2 that it costs five. camerasPerCore = figure / 4 (ideal, the RTSP fan-out not included).
 * Times are CPU time of this process (user + system), so a busy machine slows the wall clock but not the figure.
 */
import { spawnSync } from 'node:child_process';
import { FlvToRtpBridge, type RtpSink } from '../../app/media/bridge/index.js';
import { readFlv, type FlvFileTag } from '../integration/bridge/flv-reader.js';

const SECONDS = Number(process.env.BENCH_SECONDS) || 20;
const ROUNDS = 7;
/** CPU time each measurement runs for at least, so that timer resolution and JIT warm-up do not matter. */
const MIN_CPU_MS = 1500;
const CAMERA_MBIT = 4;

function encode(): FlvFileTag[] {
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000'],
    // Noise so that the encoder really spends 4 Mbit/s (testsrc2 alone compresses far below it).
    ...['-vf', 'noise=alls=12:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '50'],
    ...['-b:v', '4M', '-maxrate', '4M', '-bufsize', '4M', '-c:a', 'aac', '-b:a', '128k'],
    ...['-t', String(SECONDS), '-f', 'flv', 'pipe:1'],
  ];
  const run = spawnSync(process.env.FFMPEG ?? 'ffmpeg', args, { maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`ffmpeg failed (${run.status ?? run.signal}): ${String(run.stderr)}`);
  return readFlv(run.stdout);
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `once` over the tags until MIN_CPU_MS of CPU time have passed; returns Mbit of tag bodies per CPU second. */
function measure(bits: number, once: () => void): number {
  const start = cpuMs();
  let loops = 0;
  do {
    once();
    loops++;
  } while (cpuMs() - start < MIN_CPU_MS);
  return (bits * loops) / 1e6 / ((cpuMs() - start) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

try {
  const tags = encode();
  const bits = tags.reduce((sum, t) => sum + t.body.length * 8, 0);
  const durationS = (tags[tags.length - 1]!.timestamp - tags[0]!.timestamp) / 1000;
  let sinkBytes = 0;
  const sink: RtpSink = {
    writeRtp: (_track, packet) => ((sinkBytes += packet.length), true),
    writeRtcp: (_track, packet) => ((sinkBytes += packet.length), true),
    close: () => undefined,
  };
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const bridgeAll = () => {
    const bridge = new FlvToRtpBridge({ path: 'bench', publish: () => sink, log });
    for (const t of tags) bridge.onTag(t.type, t.timestamp, t.body);
    bridge.close();
  };
  let copied = 0;
  const copyAll = () => {
    for (const t of tags) {
      const copy = Buffer.allocUnsafe(t.body.length);
      copied += t.body.copy(copy);
    }
  };
  // Alternating rounds, so that a slow moment of the machine hits both sides alike; the median of each.
  const figure: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    figure.push(measure(bits, bridgeAll));
    reference.push(measure(bits, copyAll));
  }
  if (sinkBytes === 0 || copied === 0) throw new Error('nothing was packetized or copied');
  const mbit = median(figure);
  const ref = median(reference);
  console.log(
    JSON.stringify({
      bench: 'bridge',
      figure: { mbitPerCpuSecond: Math.round(mbit), camerasPerCore: Math.floor(mbit / CAMERA_MBIT) },
      reference: { name: 'copy of every FLV tag body', mbitPerCpuSecond: Math.round(ref) },
      ratio: Number((mbit / ref).toFixed(3)),
      unit: 'Mbit/s of FLV payload per CPU second',
      input: {
        seconds: Number(durationS.toFixed(1)),
        mbitPerSecond: Number((bits / 1e6 / durationS).toFixed(2)),
        tags: tags.length,
        video: '1280x720 25 fps H.264 GOP 2 s',
        audio: 'AAC 48 kHz',
      },
      rounds: ROUNDS,
    }),
  );
} catch (error) {
  process.stderr.write(`bench bridge failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
