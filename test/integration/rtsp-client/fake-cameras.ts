/**
 * Peers for the puller tests: TCP servers that misbehave like broken cameras, a proxy in front of a real RtspServer
 * that rewrites its challenges (a Basic-only camera, a Digest camera with qop=auth), and a logger that keeps lines.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Scope } from '../../helpers/core.js';

/** A listening TCP server on 127.0.0.1 with the sockets it accepted; closed in t.after. */
export interface FakeCamera {
  port: number;
  /** Accepted sockets still open. */
  open: Set<Socket>;
  /** Connections accepted so far. */
  accepted: number;
}

/** Listens on a free loopback port and hands every accepted socket to `onSocket`. */
export async function fakeCamera(scope: Scope, onSocket: (socket: Socket) => void): Promise<FakeCamera> {
  const open = new Set<Socket>();
  const camera: FakeCamera = { port: 0, open, accepted: 0 };
  const server: Server = createServer((socket) => {
    camera.accepted++;
    open.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
    // Flowing mode, so that the client's close is seen (a paused socket never emits 'end').
    socket.on('data', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  camera.port = (server.address() as { port: number }).port;
  scope.after(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return camera;
}

/** What the proxy saw the client send. */
export interface ProxyLog {
  port: number;
  /** Authorization header values sent by the client, in order. */
  authorizations: string[];
}

/**
 * A proxy to `targetPort` that passes everything through except the WWW-Authenticate lines of 401 responses, which
 * `rewrite` may change (the server writes each response in one piece, which on loopback arrives as one chunk).
 */
export async function challengeProxy(
  scope: Scope,
  targetPort: number,
  rewrite: (challenges: string[]) => string[],
): Promise<ProxyLog> {
  const log: ProxyLog = { port: 0, authorizations: [] };
  const camera = await fakeCamera(scope, (client) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1' });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      for (const m of text.matchAll(/^Authorization: (.*)\r$/gm)) log.authorizations.push(m[1]!);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (!text.startsWith('RTSP/1.0 401')) return void client.write(chunk);
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const challenges = lines.filter((l) => l.startsWith('WWW-Authenticate: ')).map((l) => l.slice(18));
      const kept = lines.filter((l) => !l.startsWith('WWW-Authenticate: '));
      const out = [...kept, ...rewrite(challenges).map((c) => `WWW-Authenticate: ${c}`)].join('\r\n');
      client.write(Buffer.from([out, ...rest].join('\r\n\r\n'), 'latin1'));
    });
  });
  log.port = camera.port;
  return log;
}

/** A logger at trace level whose lines are kept (to check what is, and is not, logged). */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) }), lines };
}

/** What a client leaves behind if it leaks: TCP sockets, pending connects and DNS look-ups, timers. */
const CLIENT_RESOURCES = new Set(['TCPSocketWrap', 'TCPConnectWrap', 'GetAddrInfoReqWrap', 'Timeout', 'Immediate']);

/** How many such resources this process holds now (process.getActiveResourcesInfo). */
export function activeResources(): number {
  return process.getActiveResourcesInfo().filter((r) => CLIENT_RESOURCES.has(r)).length;
}
