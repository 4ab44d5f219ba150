/**
 * Incremental parser of the bytes an RTSP client sends: requests (with body), responses (ignored by the server but
 * framed so they do not desync the stream) and `$` interleaved binary frames. It never throws: malformed input
 * yields one fatal `error` item, after which the parser swallows everything (the connection is being closed).
 */

/** A parsed request. Header names are lower-case; the first occurrence of a repeated header wins. */
export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  headers: Map<string, string>;
  body: Buffer;
}

/** One thing found in the byte stream. `frame.payload` is a view into parser memory: copy it to keep it. */
export type ParsedItem =
  | { kind: 'request'; request: RtspRequest }
  | { kind: 'response'; status: number; headers: Map<string, string> }
  | { kind: 'frame'; channel: number; payload: Buffer }
  | { kind: 'error'; status: 400 | 413 | 505; reason: string; cseq?: string };

/** Bounds of the parser. */
export interface ParserLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const EMPTY = Buffer.alloc(0);

/** Streaming RTSP parser; feed it with push() in chunks of any size. */
export class RtspParser {
  private buf: Buffer = EMPTY;
  /** Where the search for the end of the header block resumes, so a slow header is not rescanned from the start. */
  private scanFrom = 0;
  private dead = false;
  private head: { start: string[]; response: boolean; headers: Map<string, string>; bodyLength: number } | null = null;

  constructor(private readonly limits: ParserLimits) {}

  /** True when part of a message has arrived and the rest has not (drives the slow-loris timeout). */
  get hasPartial(): boolean {
    return !this.dead && this.buf.length > 0;
  }

  /** True after a fatal error. */
  get failed(): boolean {
    return this.dead;
  }

  /** Appends bytes and returns every complete item they finish, in order. */
  push(chunk: Buffer): ParsedItem[] {
    if (this.dead || chunk.length === 0) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const items: ParsedItem[] = [];
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
    // Release the consumed prefix: a view into a large chunk would otherwise pin it for as long as the connection.
    if (this.buf.length > 0 && this.buf.byteOffset > 0 && items.length > 0) this.buf = Buffer.from(this.buf);
    return items;
  }

  private next(): ParsedItem | null {
    if (this.head) return this.body();
    let start = 0;
    // Stray line breaks between messages are tolerated (RFC 7826 §20.2.1 asks servers to ignore them).
    while (start < this.buf.length && (this.buf[start] === 0x0d || this.buf[start] === 0x0a)) start++;
    if (start > 0) this.consume(start);
    if (this.buf.length === 0) return null;
    if (this.buf[0] === 0x24) return this.frame();
    const end = this.findHeaderEnd();
    if (end === null) {
      // +3: a terminator starting at the last allowed byte needs two more bytes to be seen; deciding earlier would
      // make the outcome depend on how the input was chunked.
      if (this.buf.length >= this.limits.maxHeaderBytes + 3) return fail(400, 'header block too large');
      return null;
    }
    const text = this.buf.toString('latin1', 0, end.headerEnd);
    this.consume(end.bodyStart);
    return this.parseHead(text);
  }

  private frame(): ParsedItem | null {
    if (this.buf.length < 4) return null;
    const length = this.buf.readUInt16BE(2);
    if (this.buf.length < 4 + length) return null;
    const item: ParsedItem = { kind: 'frame', channel: this.buf[1]!, payload: this.buf.subarray(4, 4 + length) };
    this.consume(4 + length);
    return item;
  }

  private findHeaderEnd(): { headerEnd: number; bodyStart: number } | null {
    const limit = Math.min(this.buf.length, this.limits.maxHeaderBytes + 1);
    for (let i = this.scanFrom; i < limit; i++) {
      if (this.buf[i] !== 0x0a) continue;
      const a = this.buf[i + 1];
      const b = this.buf[i + 2];
      // An empty line ends the block; bare LF line ends are accepted too, as lenient clients send them.
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

  private parseHead(text: string): ParsedItem | null {
    const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const startLine = lines[0] ?? '';
    const headers = new Map<string, string>();
    let last: string | null = null;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      if ((line[0] === ' ' || line[0] === '\t') && last !== null) {
        headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
      if (!TOKEN.test(name)) return fail(400, 'malformed header line', headers.get('cseq'));
      last = name;
      if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
    }
    const cseq = headers.get('cseq');
    const lengthHeader = headers.get('content-length');
    let bodyLength = 0;
    if (lengthHeader !== undefined) {
      if (!/^\d{1,15}$/.test(lengthHeader)) return fail(400, 'invalid Content-Length', cseq);
      bodyLength = Number(lengthHeader);
      if (bodyLength > this.limits.maxBodyBytes) return fail(413, 'body too large', cseq);
    }
    const response = /^RTSP\/\d\.\d (\d{3})(?: .*)?$/.exec(startLine);
    if (response) {
      this.head = { start: ['RTSP', response[1]!], response: true, headers, bodyLength };
      return this.body();
    }
    const parts = startLine.split(' ');
    if (parts.length !== 3 || parts.some((p) => p === '')) return fail(400, 'malformed start line', cseq);
    if (!TOKEN.test(parts[0]!)) return fail(400, 'malformed method', cseq);
    if (!/^RTSP\/\d\.\d$/.test(parts[2]!)) return fail(400, 'malformed version', cseq);
    if (parts[2] !== 'RTSP/1.0') return fail(505, 'unsupported RTSP version', cseq);
    this.head = { start: parts, response: false, headers, bodyLength };
    return this.body();
  }

  private body(): ParsedItem | null {
    const head = this.head!;
    if (this.buf.length < head.bodyLength) return null;
    const body = head.bodyLength === 0 ? EMPTY : Buffer.from(this.buf.subarray(0, head.bodyLength));
    this.consume(head.bodyLength);
    this.head = null;
    const [a, b, c] = head.start as [string, string, string];
    if (head.response) return { kind: 'response', status: Number(b), headers: head.headers };
    return { kind: 'request', request: { method: a, uri: b, version: c, headers: head.headers, body } };
  }

  private consume(n: number): void {
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.scanFrom = 0;
  }
}

function fail(status: 400 | 413 | 505, reason: string, cseq?: string): ParsedItem {
  return cseq === undefined ? { kind: 'error', status, reason } : { kind: 'error', status, reason, cseq };
}
