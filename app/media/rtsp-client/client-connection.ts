/**
 * One TCP connection to an RTSP server, from the client side: requests matched to responses by CSeq (with a
 * timeout each, and answers to 401 challenges), interleaved frames handed to the caller, and an end that happens
 * once, for one reason, after which the socket is destroyed.
 */
import { connect, type Socket } from 'node:net';
import { formatResponse } from '../rtsp/response.js';
import { ClientAuth, type ClientCredentials } from './client-auth.js';
import { ResponseParser, type RtspReply } from './response-parser.js';

/** Sent in every request. */
const USER_AGENT = 'Cupola';
/** Sends of one request at most: the first, an answer to a challenge, and one more for a stale nonce. */
const MAX_SENDS = 3;

/** Options of a ClientConnection. */
export interface ClientConnectionOptions {
  host: string;
  port: number;
  credentials: ClientCredentials | null;
  /** For the TCP connect and for each request. */
  requestTimeoutMs: number;
  /** An interleaved frame; `payload` is a view into parser memory that is never written to. */
  onFrame(channel: number, payload: Buffer): void;
}

interface Pending {
  method: string;
  resolve(reply: RtspReply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** See the file comment. */
export class ClientConnection {
  /** Sent with every request once set (after the first SETUP). */
  session: string | null = null;
  private socket: Socket | null = null;
  private readonly parser = new ResponseParser();
  private readonly auth: ClientAuth;
  private readonly pending = new Map<string, Pending>();
  private cseq = 0;
  private reason: string | null = null;
  private closedPromise: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ClientConnectionOptions) {
    this.auth = new ClientAuth(opts.credentials);
  }

  /** Why the connection ended, or null while it is up. */
  get endReason(): string | null {
    return this.reason;
  }

  /** Resolves once the socket is closed (after end(), or when the peer or the network closed it). */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Connects; resolves when the TCP connection is up, rejects when it ends first or takes too long. */
  open(): Promise<void> {
    if (this.socket || this.reason !== null) return Promise.reject(new Error(this.reason ?? 'already opened'));
    const socket = connect({ host: this.opts.host, port: this.opts.port, noDelay: true });
    this.socket = socket;
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', (err) => this.end(`connection error: ${err.message}`));
    socket.on('close', () => this.end('the camera closed the connection'));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    return new Promise((resolve, reject) => {
      const ms = this.opts.requestTimeoutMs;
      const timer = setTimeout(() => this.end(`no TCP connection within ${ms} ms`), ms);
      const done = () => {
        clearTimeout(timer);
        socket.off('connect', done);
        socket.off('close', done);
        if (this.reason === null) resolve();
        else reject(new Error(this.reason));
      };
      socket.once('connect', done);
      socket.once('close', done);
    });
  }

  /** Sends a request, answering up to two 401s; rejects with a readable reason when authentication fails. */
  async send(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspReply> {
    for (let sends = 1; ; sends++) {
      const reply = await this.request(method, uri, headers);
      if (reply.status !== 401) return reply;
      const refused = this.auth.accept(reply.authenticate);
      if (refused !== null) throw new Error(refused);
      if (sends >= MAX_SENDS) throw new Error(`${method} still answered 401 after ${sends} attempts`);
    }
  }

  /** Sends one request (with Authorization and Session when known); resolves with its response. */
  request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspReply> {
    const socket = this.socket;
    if (this.reason !== null || !socket) return Promise.reject(new Error(this.reason ?? 'not connected'));
    const cseq = String(++this.cseq);
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${cseq}`, `User-Agent: ${USER_AGENT}`];
    const authorization = this.auth.header(method, uri);
    if (authorization !== undefined) lines.push(`Authorization: ${authorization}`);
    if (this.session !== null) lines.push(`Session: ${this.session}`);
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    return new Promise((resolve, reject) => {
      const ms = this.opts.requestTimeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new Error(`no answer to ${method} within ${ms} ms`));
      }, ms);
      this.pending.set(cseq, { method, resolve, reject, timer });
    });
  }

  /** Ends the connection (once): pending requests fail with `reason`, `farewell` is written, the socket destroyed. */
  end(reason: string, farewell?: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    this.pending.clear();
    const socket = this.socket;
    if (!socket) return;
    if (farewell !== undefined && socket.writable && !socket.connecting) socket.write(farewell);
    socket.destroy();
  }

  /** A TEARDOWN request for `end()`: frees the session on the camera (cheap ones allow very few at a time). */
  teardown(uri: string): string | undefined {
    if (this.session === null) return undefined;
    return `TEARDOWN ${uri} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\nUser-Agent: ${USER_AGENT}\r\nSession: ${this.session}\r\n\r\n`;
  }

  private onData(chunk: Buffer): void {
    try {
      for (const item of this.parser.push(chunk)) {
        if (this.reason !== null) return;
        if (item.kind === 'frame') this.opts.onFrame(item.channel, item.payload);
        else if (item.kind === 'response') this.onReply(item.reply);
        else if (item.kind === 'request') {
          // Servers may ping clients (OPTIONS, GET_PARAMETER); anything else we do not implement.
          const ok = ['OPTIONS', 'GET_PARAMETER', 'SET_PARAMETER'].includes(item.method.toUpperCase());
          this.socket?.write(formatResponse({ status: ok ? 200 : 501 }, item.cseq));
        } else this.end(`malformed data from the camera: ${item.reason}`);
      }
    } catch (err) {
      // A bug on our side (e.g. in the fan-out behind onFrame) costs this camera a reconnect, not the process.
      this.end(`internal error: ${(err as Error).message}`);
    }
  }

  private onReply(reply: RtspReply): void {
    const cseq = reply.headers.get('cseq')?.trim();
    // A server that omits CSeq can still be followed while one request is outstanding.
    const key = cseq ?? (this.pending.size === 1 ? [...this.pending.keys()][0] : undefined);
    const pending = key === undefined ? undefined : this.pending.get(key);
    if (!pending) return;
    this.pending.delete(key!);
    clearTimeout(pending.timer);
    pending.resolve(reply);
  }
}
