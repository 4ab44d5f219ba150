/**
 * Incremental parser of what an RTSP server (a camera) sends to a client: responses with their body, `$`
 * interleaved frames, and the odd request a server may send (answered or ignored by the caller). It never throws:
 * malformed input yields one `error` item, after which the parser swallows everything (the connection is ending).
 *
 * The server's own parser (app/media/rtsp/request-parser.ts) frames responses but drops their body and their
 * repeated headers, which a client needs (the SDP of DESCRIBE, every WWW-Authenticate challenge).
 */

/** A parsed response. Header names are lower-case; the first occurrence of a repeated header wins. */
export interface RtspReply {
  status: number;
  reason: string;
  headers: Map<string, string>;
  /** Every WWW-Authenticate value, in order (a server may offer Digest and Basic on separate lines). */
  authenticate: string[];
  body: Buffer;
}

/** One thing found in the byte stream. `frame.payload` is a view into parser memory that is never written to. */
export type ClientItem =
  | { kind: 'response'; reply: RtspReply }
  | { kind: 'request'; method: string; cseq: string | undefined }
  | { kind: 'frame'; channel: number; payload: Buffer }
  | { kind: 'error'; reason: string };

/** Bounds of the parser; a frame is bounded by its 16-bit length. */
export interface ResponseParserLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

const DEFAULT_LIMITS: ResponseParserLimits = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 };
const EMPTY = Buffer.alloc(0);

interface Head {
  status: number | null;
  reason: string;
  method: string;
  headers: Map<string, string>;
  authenticate: string[];
  bodyLength: number;
}

/** Streaming parser; feed it with push() in chunks of any size. */
export class ResponseParser {
  private buf: Buffer = EMPTY;
  private scanFrom = 0;
  private dead = false;
  private head: Head | null = null;

  constructor(private readonly limits: ResponseParserLimits = DEFAULT_LIMITS) {}

  /** Appends bytes and returns every complete item they finish, in order. */
  push(chunk: Buffer): ClientItem[] {
    if (this.dead || chunk.length === 0) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const items: ClientItem[] = [];
    for (;;) {
      const item = this.next();
      if (!item) break;
      items.push(item);
      if (item.kind === 'error') {
        this.dead = true;
        this.buf = EMPTY;
        break;
      }
    }
    // A small remainder must not pin the large chunk it came from.
    if (this.buf.length > 0 && this.buf.byteOffset > 0 && items.length > 0) this.buf = Buffer.from(this.buf);
    return items;
  }

  private next(): ClientItem | null {
    if (this.head) return this.body();
    let start = 0;
    while (start < this.buf.length && (this.buf[start] === 0x0d || this.buf[start] === 0x0a)) start++;
    if (start > 0) this.consume(start);
    if (this.buf.length === 0) return null;
    if (this.buf[0] === 0x24) return this.frame();
    const end = this.findHeaderEnd();
    if (end === null) {
      // +3 as in the server's parser: the decision must not depend on how the input was chunked.
      return this.buf.length >= this.limits.maxHeaderBytes + 3
        ? { kind: 'error', reason: 'header block too large' }
        : null;
    }
    const text = this.buf.toString('latin1', 0, end.headerEnd);
    this.consume(end.bodyStart);
    return this.parseHead(text);
  }

  private frame(): ClientItem | null {
    if (this.buf.length < 4) return null;
    const length = this.buf.readUInt16BE(2);
    if (this.buf.length < 4 + length) return null;
    const item: ClientItem = { kind: 'frame', channel: this.buf[1]!, payload: this.buf.subarray(4, 4 + length) };
    this.consume(4 + length);
    return item;
  }

  private findHeaderEnd(): { headerEnd: number; bodyStart: number } | null {
    const limit = Math.min(this.buf.length, this.limits.maxHeaderBytes + 1);
    for (let i = this.scanFrom; i < limit; i++) {
      if (this.buf[i] !== 0x0a) continue;
      const a = this.buf[i + 1];
      const b = this.buf[i + 2];
      if (a === 0x0a) return { headerEnd: i, bodyStart: i + 2 };
      if (a === 0x0d && b === 0x0a) return { headerEnd: i, bodyStart: i + 3 };
      if (a === undefined || (a === 0x0d && b === undefined)) {
        this.scanFrom = i;
        return null;
      }
    }
    this.scanFrom = limit;
    return null;
  }

  private parseHead(text: string): ClientItem | null {
    const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const startLine = lines[0] ?? '';
    const response = /^RTSP\/\d\.\d (\d{3})(?: (.*))?$/.exec(startLine);
    const request = response ? null : /^([A-Za-z_-]{1,32}) \S+ RTSP\/\d\.\d$/.exec(startLine);
    if (!response && !request) return { kind: 'error', reason: 'malformed start line' };
    const headers = new Map<string, string>();
    const authenticate: string[] = [];
    let last: string | null = null;
    for (const line of lines.slice(1)) {
      if ((line.startsWith(' ') || line.startsWith('\t')) && last !== null) {
        headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      // Cameras get header lines wrong in many ways; one we cannot read is skipped rather than fatal.
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'www-authenticate' && authenticate.length < 8) authenticate.push(value);
      last = headers.has(name) ? null : name;
      if (!headers.has(name)) headers.set(name, value);
    }
    const lengthHeader = headers.get('content-length');
    let bodyLength = 0;
    if (lengthHeader !== undefined) {
      if (!/^\d{1,15}$/.test(lengthHeader)) return { kind: 'error', reason: 'invalid Content-Length' };
      bodyLength = Number(lengthHeader);
      if (bodyLength > this.limits.maxBodyBytes) return { kind: 'error', reason: 'body too large' };
    }
    this.head = {
      status: response ? Number(response[1]) : null,
      reason: response?.[2] ?? '',
      method: request?.[1] ?? '',
      headers,
      authenticate,
      bodyLength,
    };
    return this.body();
  }

  private body(): ClientItem | null {
    const head = this.head!;
    if (this.buf.length < head.bodyLength) return null;
    const body = head.bodyLength === 0 ? EMPTY : Buffer.from(this.buf.subarray(0, head.bodyLength));
    this.consume(head.bodyLength);
    this.head = null;
    if (head.status === null) return { kind: 'request', method: head.method, cseq: head.headers.get('cseq') };
    const { status, reason, headers, authenticate } = head;
    return { kind: 'response', reply: { status, reason, headers, authenticate, body } };
  }

  private consume(n: number): void {
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.scanFrom = 0;
  }
}
