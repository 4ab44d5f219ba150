/**
 * A minimal RTMP client over net.Socket for tests that must do what ffmpeg will not: a connect command with a
 * malformed tcUrl, garbage after the handshake, a player that stops reading. Its own AMF0 encoder and chunker,
 * independent of node-media-server's. Server output is not parsed, only kept (first 256 KB) and counted.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Scope } from '../../helpers/core.js';

/** An AMF0 value this encoder can write. */
export type Amf0 = number | string | boolean | null | { [key: string]: Amf0 };

/** Encodes one AMF0 value (number, boolean, string, object, null; strings up to 64 KB). */
export function amf0(value: Amf0): Buffer {
  if (value === null) return Buffer.from([0x05]);
  if (typeof value === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(value, 1);
    return b;
  }
  if (typeof value === 'boolean') return Buffer.from([0x01, value ? 1 : 0]);
  if (typeof value === 'string') return Buffer.concat([Buffer.from([0x02]) as Buffer, amf0Key(value)]);
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, v] of Object.entries(value)) parts.push(amf0Key(k), amf0(v));
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return Buffer.concat(parts);
}

function amf0Key(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** One RTMP message as chunks of `chunkSize` on chunk stream `csid` (type-0 header, then type-3 continuations). */
export function chunkMessage(csid: number, type: number, streamId: number, payload: Buffer, chunkSize = 128): Buffer {
  const header = Buffer.alloc(12);
  header[0] = csid & 0x3f;
  header.writeUIntBE(0, 1, 3); // timestamp
  header.writeUIntBE(payload.length, 4, 3);
  header[7] = type;
  header.writeUInt32LE(streamId, 8);
  const parts: Buffer[] = [header];
  for (let off = 0; off < payload.length; off += chunkSize) {
    if (off > 0) parts.push(Buffer.from([0xc0 | (csid & 0x3f)]));
    parts.push(payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

/** See the file comment. */
export class RawRtmpClient {
  /** Bytes received from the server, handshake included. */
  received = 0;
  closed = false;
  private head = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      if (this.head.length < 256 * 1024) this.head = Buffer.concat([this.head, chunk]);
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects to 127.0.0.1:port; destroyed in t.after. */
  static async open(scope: Scope, port: number): Promise<RawRtmpClient> {
    const socket = connect({ port, host: '127.0.0.1' });
    scope.after(() => void socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawRtmpClient(socket);
  }

  /** The server's output so far as latin1 text, to look for AMF strings such as `NetStream.Play.Start`. */
  text(): string {
    return this.head.toString('latin1');
  }

  /** Simple handshake: C0+C1, wait for S0+S1+S2, send C2 (= S1). */
  async handshake(timeoutMs = 5000): Promise<void> {
    const c1 = randomBytes(1536);
    c1.fill(0, 0, 8); // time + zero: the "simple" handshake, no digest
    this.socket.write(Buffer.concat([Buffer.from([0x03]), c1]));
    await this.waitFor(() => this.received >= 1 + 1536 * 2, timeoutMs, 'S0+S1+S2');
    this.socket.write(this.head.subarray(1, 1 + 1536));
  }

  /** Sends an AMF0 command (message type 20) on chunk stream 3. */
  command(name: string, transId: number, args: Amf0[], streamId = 0): void {
    const payload = Buffer.concat([amf0(name), amf0(transId), ...args.map(amf0)]);
    this.socket.write(chunkMessage(3, 20, streamId, payload));
  }

  /** `connect` with the given command object (pass a malformed tcUrl on purpose to test the server). */
  connect(app: string, tcUrl: Amf0, extra: Record<string, Amf0> = {}): void {
    this.command('connect', 1, [{ app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl, ...extra }]);
  }

  /** `createStream` then `play` on stream 1 (what the server answers to the first createStream). */
  play(streamName: string): void {
    this.command('createStream', 2, [null]);
    this.command('play', 3, [null, streamName, -2000], 1);
  }

  /** `createStream` then `publish` on stream 1. */
  publish(streamName: string): void {
    this.command('createStream', 2, [null]);
    this.command('publish', 3, [null, streamName, 'live'], 1);
  }

  /** Waits until `check()` holds; false when `timeoutMs` passed first. */
  async waitFor(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`raw RTMP client: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** True once the server closed the connection within `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    try {
      await this.waitFor(() => this.closed, timeoutMs, 'close');
      return true;
    } catch {
      return false;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
