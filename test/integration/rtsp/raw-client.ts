/**
 * A raw RTSP client over net.Socket for tests that must do what ffmpeg will not: send exact bytes, read every
 * header (repeated ones too), stop reading on purpose. Independent of the server's own parser.
 */
import { connect, type Socket } from 'node:net';
import type { Scope } from '../../helpers/core.js';

/** A response as seen on the wire. */
export interface RawResponse {
  status: number;
  headers: [string, string][];
  body: string;
  /** First value of a header (case-insensitive). */
  get(name: string): string | undefined;
  /** Every value of a header. */
  all(name: string): string[];
}

/** See the file comment. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private cseq = 0;
  /** Bytes of `$` frames received. */
  frameBytes = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.skipFrames();
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects to 127.0.0.1:port (optionally from another loopback address); destroyed in t.after. */
  static async open(scope: Scope, port: number, localAddress?: string): Promise<RawClient> {
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    scope.after(() => void socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Sends a request with the next CSeq and waits for its response. */
  async request(method: string, url: string, headers: Record<string, string> = {}, body = ''): Promise<RawResponse> {
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${++this.cseq}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    return this.response();
  }

  /** Waits for the next response (rejects when the connection closes first, or after `timeoutMs`). */
  async response(timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = this.parse();
      if (res) return res;
      if (this.closed) throw new Error('connection closed before a response');
      if (Date.now() > deadline) throw new Error('no response in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Resolves once the server has closed the connection; false after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return this.closed;
  }

  /** Everything received and not parsed as a response yet, as text. */
  get pending(): string {
    return this.buf.toString('latin1');
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private skipFrames(): void {
    while (this.buf.length >= 4 && this.buf[0] === 0x24) {
      const len = this.buf.readUInt16BE(2);
      if (this.buf.length < 4 + len) return;
      this.frameBytes += 4 + len;
      this.buf = this.buf.subarray(4 + len);
    }
  }

  private parse(): RawResponse | null {
    this.skipFrames();
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || this.buf[0] === 0x24) return null;
    const lines = this.buf.toString('latin1', 0, end).split('\r\n');
    const headers: [string, string][] = lines.slice(1).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
    const length = Number(headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1] ?? 0);
    if (this.buf.length < end + 4 + length) return null;
    const body = this.buf.toString('utf8', end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    const all = (name: string): string[] =>
      headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    return { status: Number(lines[0]!.split(' ')[1]), headers, body, get: (n) => all(n)[0], all };
  }
}
