/**
 * Real peers of the relay tests, all on loopback: an in-process RTSP server with ffmpeg publishing test patterns of
 * different sizes (the sources), an in-process RTMP ingest that records when video arrives (the destination), and a
 * plain-HTTP SSE server standing in for the control server (it can drop, restart, go silent and misbehave).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pino } from 'pino';
import { RtmpIngest } from '../../../app/media/rtmp/index.js';
import type { RtspServer } from '../../../app/media/rtsp/index.js';
import type { Scope } from '../../helpers/core.js';
import { waitUntil } from '../../helpers/processes.js';
import { FFMPEG, spawnPeer, startServer, type Peer } from '../rtsp/peers.js';

/** An RTSP server whose readers are dropped as soon as a publisher leaves (a camera that is gone is gone). */
export function startSourceServer(scope: Scope): Promise<RtspServer> {
  return startServer(scope, { udp: false, limits: { publisherGraceMs: 0 } });
}

/**
 * ffmpeg publishing a `size` test pattern (25 fps, GOP 1 s, AAC) to `path`; waits until it flows. The video is H.264,
 * or MPEG-4 Part 2 (a codec RTSP carries and FLV does not: a relay must encode it).
 */
export async function publishSource(
  scope: Scope,
  server: RtspServer,
  path: string,
  size: string,
  codec: 'h264' | 'mpeg4' = 'h264',
): Promise<Peer> {
  const video =
    codec === 'h264' ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'] : ['-c:v', 'mpeg4'];
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-f', 'lavfi', '-i', 'sine=sample_rate=48000'],
    ...[...video, '-g', '25', '-c:a', 'aac'],
    ...['-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${server.port}/${path}`],
  ];
  const peer = spawnPeer(scope, FFMPEG, args);
  const flowing = () => server.paths().some((p) => p.path === path && p.packetsIn > 30);
  await waitUntil(() => flowing() || !peer.running(), 15_000, `${path} online`);
  if (!peer.running()) assert.fail(`publisher of ${path} exited: ${(await peer.done).stderr.slice(-1000)}`);
  return peer;
}

/** The RTMP destination: who published when, and when each video tag arrived. */
export interface Destination {
  ingest: RtmpIngest;
  port: number;
  /** `publish <name>` / `unpublish <name>` with performance.now(). */
  timeline: { at: number; what: string }[];
  /** Arrival times (performance.now()) of video tags of `name` (tapped from the start). */
  videoTags(name: string): number[];
  /** The picture size the destination sees for `name`, or null when nothing is published there. */
  size(name: string): string | null;
}

/** Starts the ingest (any publisher accepted) and taps `names`. */
export async function startDestination(scope: Scope, names: string[]): Promise<Destination> {
  const ingest = new RtmpIngest({
    port: 0,
    host: '127.0.0.1',
    log: pino({ level: 'silent' }),
    authorizePublish: () => true,
  });
  await ingest.start();
  scope.after(() => ingest.stop());
  const timeline: Destination['timeline'] = [];
  ingest.onPublish((s) => timeline.push({ at: performance.now(), what: `publish ${s.name}` }));
  ingest.onUnpublish((s) => timeline.push({ at: performance.now(), what: `unpublish ${s.name}` }));
  const tags = new Map<string, number[]>();
  for (const name of names) {
    const list: number[] = [];
    tags.set(name, list);
    ingest.onTag(name, (type) => type === 9 && list.push(performance.now()));
  }
  return {
    ingest,
    port: ingest.port,
    timeline,
    videoTags: (name) => tags.get(name) ?? [],
    size: (name) => {
      const s = ingest.stream(name);
      return s?.width && s.height ? `${s.width}x${s.height}` : null;
    },
  };
}

/** The longest pause between consecutive video tags of `name` within [from, to]. */
export function longestPause(dest: Destination, name: string, from: number, to: number): number {
  const at = dest.videoTags(name).filter((t) => t >= from && t <= to);
  let max = 0;
  for (let i = 1; i < at.length; i++) max = Math.max(max, at[i]! - at[i - 1]!);
  return Math.round(max);
}

/** One connection the SSE server accepted. */
export interface SseConnection {
  at: number;
  headers: IncomingHttpHeaders;
  res: ServerResponse;
  silent: boolean;
}

/** The control server: text/event-stream on GET /events, a `: ping` every 400 ms unless silent. */
export class TestSseServer {
  readonly connections: SseConnection[] = [];
  /** New connections get headers and nothing else (a dead peer that keeps the socket open). */
  silent = false;
  /** Written to every new (non-silent) connection right after the headers. */
  onConnect: ((c: SseConnection) => void) | null = null;
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private ping: NodeJS.Timeout | null = null;

  /** The URL the relay is configured with. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  /** Listens (on the same port again after a restart). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url !== '/events') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      const conn = { at: performance.now(), headers: req.headers, res, silent: this.silent };
      this.connections.push(conn);
      if (!conn.silent) this.onConnect?.(conn);
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((ok) => server.listen(this.port, '127.0.0.1', ok));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    this.ping ??= setInterval(() => this.broadcast(`: ping\n\n`), 400);
  }

  /** Writes raw text to every open, non-silent connection. */
  broadcast(text: string): void {
    for (const c of this.connections) if (!c.silent && !c.res.writableEnded && !c.res.destroyed) c.res.write(text);
  }

  /** Sends one event. */
  send(id: string | null, type: string, data: unknown): void {
    const body = typeof data === 'string' ? data : JSON.stringify(data);
    this.broadcast(`${id === null ? '' : `id: ${id}\n`}event: ${type}\ndata: ${body}\n\n`);
  }

  /** Cuts every connection (RST-like: the sockets are destroyed). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Goes away (all connections cut, port closed) and comes back on the same port after `downMs`. */
  async restart(downMs: number): Promise<void> {
    await this.close();
    await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  /** Closes the server and every connection. */
  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
    this.server = null;
  }

  /** Stops for good (the ping timer too). */
  async stop(): Promise<void> {
    if (this.ping) clearInterval(this.ping);
    this.ping = null;
    await this.close();
  }
}

/** A url_update in the seed's format. */
export function urlUpdate(rtsp: string | null, rtmp: string | null, timestamp: Date, extra: object = {}): object {
  return { rtsp_url: rtsp, rtmp_url: rtmp, timestamp: timestamp.toISOString(), restart_required: true, ...extra };
}
