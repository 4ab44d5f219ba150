/**
 * Real peers for the RTMP ingest tests: an in-process RtmpIngest on loopback, the ingest in a fixture process
 * (ingest-host.ts, the way the media-plane worker runs it), and ffmpeg children. Everything is torn down in t.after.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { RtmpIngest, type RtmpIngestOptions, type RtmpStreamStats } from '../../../app/media/rtmp/index.js';
import type { RtmpIngestCounters, RtmpLimits } from '../../../app/media/rtmp/index.js';
import { spawnPeer, trackPeer, type Peer, type PeerResult } from '../../helpers/peers.js';
import type { Scope } from '../../helpers/core.js';
export { spawnPeer, type Peer, type PeerResult } from '../../helpers/peers.js';
import type { TagSummary } from './tag-recorder.js';

export const FFMPEG = '/usr/bin/ffmpeg';
export const RIGHT_KEY = 'RIGHT-key-5f1c';

/** A logger that keeps every line (NMS's redirected ones too) for assertions. */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'trace' }, sink), lines };
}

/** An in-process ingest on 127.0.0.1, a free port, cam1 ↔ RIGHT_KEY; stopped in t.after. */
export async function startIngest(scope: Scope, opts: Partial<RtmpIngestOptions> = {}): Promise<RtmpIngest> {
  const ingest = new RtmpIngest({
    port: 0,
    host: '127.0.0.1',
    log: pino({ level: 'silent' }),
    authorizePublish: ({ name, query }) => name === 'cam1' && query.key === RIGHT_KEY,
    ...opts,
  });
  await ingest.start();
  scope.after(() => ingest.stop());
  return ingest;
}

/** The reference publisher of the brief: H.264 640x360 25 fps GOP 1 s + AAC, real time, to `url`. */
export function publishArgs(url: string, seconds?: number): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine'],
    ...(seconds ? ['-t', String(seconds)] : []),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'aac'],
    ...['-f', 'flv', url],
  ];
}

/** Starts the reference publisher on `live/<name>?key=<key>`. */
export function publish(scope: Scope, port: number, name: string, key: string, seconds?: number): Peer {
  return spawnPeer(scope, FFMPEG, publishArgs(`rtmp://127.0.0.1:${port}/live/${name}?key=${key}`, seconds));
}

/** What the fixture reports. */
export interface HostReport {
  tags: Record<string, TagSummary>;
  streams: RtmpStreamStats[];
  counters: RtmpIngestCounters;
  rssMb: number;
}

/** The ingest running in a fixture process. */
export interface IngestHost extends Peer {
  port: number;
  /** Every message received so far. */
  messages: { type: string; [k: string]: unknown }[];
  report(): Promise<HostReport>;
  /** Asks for ingest.stop(); resolves with the ms it took. */
  stop(): Promise<number>;
}

const HOST_SCRIPT = fileURLToPath(new URL('./fixtures/ingest-host.ts', import.meta.url));

/** Starts ingest-host.ts with tsx and an IPC channel; waits for its port. */
export async function startHost(
  scope: Scope,
  config: { keys: Record<string, string>; allowPlay?: boolean; limits?: Partial<RtmpLimits> },
): Promise<IngestHost> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOST_SCRIPT], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    env: { ...process.env, INGEST_CONFIG: JSON.stringify(config) },
  });
  const peer = trackPeer(scope, child);
  const messages: IngestHost['messages'] = [];
  const waiters = new Set<() => void>();
  child.on('message', (m: IngestHost['messages'][number]) => {
    messages.push(m);
    for (const w of waiters) w();
  });
  const next = (type: string, from: number, timeoutMs = 10_000): Promise<IngestHost['messages'][number]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = messages.slice(from).find((m) => m.type === type);
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`ingest host: no '${type}' within ${timeoutMs} ms (running=${peer.running()})`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const ready = await next('ready', 0, 20_000);
  return {
    ...peer,
    port: ready.port as number,
    messages,
    report: async () => {
      const from = messages.length;
      child.send({ cmd: 'report' });
      return (await next('report', from)) as unknown as HostReport;
    },
    stop: async () => {
      const from = messages.length;
      child.send({ cmd: 'stop' });
      return (await next('stopped', from)).ms as number;
    },
  };
}

/** ffmpeg `-progress pipe:1` of a finished read: last speed, media time read, and media time over wall time in
 * the second half of the read (steady state, ≈ 1 live; the first half includes the GOP replay burst). */
export function readRate(result: PeerResult): { speed: number; outS: number; steadyRate: number } {
  const blocks: { at: number; outUs: number; speed: number }[] = [];
  let outUs = 0;
  let speed = 0;
  for (const { at, line } of result.lines) {
    const [key, value = ''] = line.trim().split('=');
    if (key === 'out_time_us') outUs = Number(value) || 0;
    else if (key === 'speed') speed = parseFloat(value) || 0;
    else if (key === 'progress') blocks.push({ at, outUs, speed });
  }
  const last = blocks[blocks.length - 1] ?? { at: 0, outUs: 0, speed: 0 };
  const mid = blocks.find((b) => b.at >= last.at / 2) ?? last;
  const wall = (last.at - mid.at) / 1000;
  return {
    speed: last.speed,
    outS: last.outUs / 1e6,
    steadyRate: wall > 0 ? (last.outUs - mid.outUs) / 1e6 / wall : 0,
  };
}

/** Waits until the fixture reports `name` published with at least `frames` video frames tapped. */
export async function waitFlowing(host: IngestHost, name: string, frames = 25): Promise<HostReport> {
  let last: HostReport | undefined;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    assert.ok(host.running(), 'the ingest host died');
    last = await host.report();
    if ((last.tags[name]?.byType['9'] ?? 0) >= frames) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${name} not flowing: ${JSON.stringify(last?.counters)}`);
}
