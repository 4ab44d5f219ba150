/**
 * K light stream readers in one child process (so that their CPU is not the server's and costs far less than one
 * ffmpeg per reader): RTSP over TCP interleaved (DESCRIBE, SETUP of every track, PLAY) or RTMP (simple handshake,
 * connect, createStream, play). Once playing, a reader only counts the bytes it receives; nothing is parsed.
 *   node --import tsx test/bench/lib/readers.ts '<ReaderSpec as JSON>'
 * Prints `{"ready":K,"failed":[...]}` once every reader plays (or failed), then one sample line per `s` line read on
 * stdin: `{"at":ms,"bytes":[per reader],"closed":n,"cpuMs":own CPU}`. Ends when stdin closes or on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { amf0, chunkMessage, type Amf0 } from '../../integration/rtmp/raw-rtmp-client.js';
import { track } from './proc.js';

/** Who the readers read. */
export interface ReaderSpec {
  kind: 'rtsp' | 'rtmp';
  port: number;
  /** RTSP path or RTMP stream name (app `live`). */
  path: string;
  /** RTSP Basic password (any user name). */
  password?: string;
  count: number;
  /** Readers per loopback source address (127.0.0.2, .3 …), to stay under a server's per-address limit. */
  perAddress: number;
}

/** One sample of every reader. */
export interface ReaderSample {
  at: number;
  bytes: number[];
  closed: number;
  cpuMs: number;
}

/** The readers' child process. */
export interface Readers {
  pid: number;
  failed: string[];
  /** How long DESCRIBE … PLAY (or the RTMP handshake … Play.Start) took: median and slowest reader. */
  setup: { medianMs: number; maxMs: number };
  sample(): Promise<ReaderSample>;
  stop(): Promise<void>;
}

/** Spawns the child with `spec.count` readers and resolves once they all play (or failed to). */
export function startReaders(spec: ReaderSpec): Promise<Readers> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  track(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = (what: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`readers: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void exited.then(() => reject(new Error(`readers: the child exited before its ${what}`)));
    });
  const stop = async () => {
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return next('ready line', 60_000).then(
    (line) => {
      const ready = JSON.parse(line) as Pick<Readers, 'failed' | 'setup'>;
      return {
        pid: child.pid!,
        failed: ready.failed,
        setup: ready.setup,
        async sample() {
          child.stdin!.write('s\n');
          return JSON.parse(await next('sample', 10_000)) as ReaderSample;
        },
        stop,
      };
    },
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The child
// ---------------------------------------------------------------------------------------------------------------

/**
 * Every socket reads into this one buffer (net's `onread`: no allocation and no stream machinery per read, so that
 * hundreds of readers cost little); the callback runs synchronously, before the next read reuses it.
 */
const READ_BUFFER = Buffer.allocUnsafe(1 << 20);

/** One reader: sets up the session, then counts bytes. */
class Reader {
  bytes = 0;
  closed = false;
  playing = false;
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private onData: (() => void) | null = null;

  constructor(port: number, localAddress: string) {
    const onread = {
      buffer: READ_BUFFER,
      callback: (n: number, buffer: Uint8Array) => {
        if (this.playing) {
          this.bytes += n;
        } else {
          this.buf = Buffer.concat([this.buf, buffer.subarray(0, n)]);
          this.onData?.();
        }
        return true;
      },
    };
    const socket = connect({ port, host: '127.0.0.1', localAddress, onread });
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.onData?.();
    });
  }

  /** From now on only counts (what is buffered and not consumed counts too). */
  play(): void {
    this.playing = true;
    this.bytes += this.buf.length;
    this.buf = Buffer.alloc(0);
  }

  /** Waits until `take(buffer)` returns a value (consuming what it says), or fails after 10 s or on close. */
  async until<T>(take: (buf: Buffer) => { value: T; used: number } | null, what: string): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const got = take(this.buf);
      if (got) {
        this.buf = this.buf.subarray(got.used);
        return got.value;
      }
      if (this.closed) throw new Error(`closed while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within 10 s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.onData = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

interface RtspResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

function rtspResponse(buf: Buffer): { value: RtspResponse; used: number } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const length = Number(headers.get('content-length') ?? 0);
  if (buf.length < end + 4 + length) return null;
  const status = Number(lines[0]!.split(' ')[1]);
  return { value: { status, headers, body: buf.toString('utf8', end + 4, end + 4 + length) }, used: end + 4 + length };
}

async function playRtsp(reader: Reader, spec: ReaderSpec): Promise<void> {
  const url = `rtsp://127.0.0.1:${spec.port}/${spec.path}`;
  const auth = spec.password
    ? { Authorization: `Basic ${Buffer.from(`bench:${spec.password}`).toString('base64')}` }
    : {};
  let cseq = 0;
  const request = async (method: string, target: string, headers: Record<string, string> = {}) => {
    const all = { CSeq: String(++cseq), ...auth, ...headers };
    const head = Object.entries(all).map(([k, v]) => `${k}: ${v}`);
    reader.socket.write(`${method} ${target} RTSP/1.0\r\n${head.join('\r\n')}\r\n\r\n`);
    const response = await reader.until(rtspResponse, `${method} response`);
    if (response.status !== 200) throw new Error(`${method}: RTSP ${response.status}`);
    return response;
  };
  const described = await request('DESCRIBE', url, { Accept: 'application/sdp' });
  const base = (described.headers.get('content-base') ?? url).replace(/\/?$/, '/');
  const controls = described.body
    .split(/\r?\n(?=m=)/)
    .slice(1)
    .map((media) => /^a=control:(.+)$/m.exec(media)?.[1]?.trim() ?? '');
  if (controls.length === 0) throw new Error(`no track in the SDP: ${described.body}`);
  let session = '';
  for (const [i, control] of controls.entries()) {
    const target = /^rtsps?:\/\//.test(control) ? control : base + control;
    const transport = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`;
    const setup = await request('SETUP', target, { Transport: transport, ...(session ? { Session: session } : {}) });
    session = (setup.headers.get('session') ?? '').split(';')[0]!;
  }
  await request('PLAY', url, { Session: session, Range: 'npt=0.000-' });
}

async function playRtmp(reader: Reader, spec: ReaderSpec): Promise<void> {
  const c1 = randomBytes(1536);
  c1.fill(0, 0, 8); // time and zero: the simple handshake
  reader.socket.write(Buffer.concat([Buffer.from([0x03]), c1]));
  const s1 = await reader.until(
    (buf) => (buf.length >= 1 + 2 * 1536 ? { value: Buffer.from(buf.subarray(1, 1537)), used: 1 + 2 * 1536 } : null),
    'S0+S1+S2',
  );
  reader.socket.write(s1);
  const command = (name: string, id: number, args: Amf0[], stream = 0) =>
    reader.socket.write(chunkMessage(3, 20, stream, Buffer.concat([amf0(name), amf0(id), ...args.map(amf0)])));
  const tcUrl = `rtmp://127.0.0.1:${spec.port}/live`;
  command('connect', 1, [{ app: 'live', type: 'nonprivate', flashVer: 'LNX 9,0,124,2', tcUrl }]);
  command('createStream', 2, [null]);
  command('play', 3, [null, spec.path, -2000], 1);
  await reader.until((buf) => {
    const i = buf.indexOf('NetStream.Play.Start');
    return i >= 0 ? { value: true, used: 0 } : null;
  }, 'NetStream.Play.Start');
}

async function runChild(spec: ReaderSpec): Promise<void> {
  const readers: Reader[] = [];
  const failed: string[] = [];
  const setupMs: number[] = [];
  const open = async (i: number) => {
    const begun = performance.now();
    const localAddress = `127.0.0.${2 + Math.floor(i / spec.perAddress)}`;
    const reader = new Reader(spec.port, localAddress);
    const { socket } = reader;
    socket.setNoDelay(true);
    readers.push(reader);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      await (spec.kind === 'rtsp' ? playRtsp(reader, spec) : playRtmp(reader, spec));
      reader.play();
      setupMs.push(performance.now() - begun);
    } catch (error) {
      failed.push(`reader ${i}: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    }
  };
  // A few at a time: a burst of hundreds of handshakes would measure the server's accept path, not the fan-out.
  for (let i = 0; i < spec.count; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, spec.count - i) }, (_, j) => open(i + j)));
  }
  setupMs.sort((a, b) => a - b);
  const setup = { medianMs: Math.round(setupMs[setupMs.length >> 1] ?? 0), maxMs: Math.round(setupMs.at(-1) ?? 0) };
  process.stdout.write(`${JSON.stringify({ ready: spec.count - failed.length, failed, setup })}\n`);
  const end = () => {
    for (const r of readers) r.socket.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', end);
  const input = createInterface({ input: process.stdin });
  input.on('line', () => {
    const cpu = process.cpuUsage();
    const sample: ReaderSample = {
      at: performance.now(),
      bytes: readers.map((r) => r.bytes),
      closed: readers.filter((r) => r.playing && r.closed).length,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    process.stdout.write(`${JSON.stringify(sample)}\n`);
  });
  input.on('close', end);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runChild(JSON.parse(process.argv[2] ?? '{}') as ReaderSpec);
}
