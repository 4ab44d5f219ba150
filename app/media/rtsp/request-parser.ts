/**
 * Incremental parser of the bytes an RTSP client sends: requests (with body), responses (ignored by the server but
 * framed so they do not desync the stream) and `$` interleaved binary frames. It never throws: malformed input
 * yields one fatal `error` item, after which the parser swallows everything (the connection is being closed).
 */

import { RtspFramer, headLines } from './framer.js';

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

/** Streaming RTSP parser; feed it with push() in chunks of any size. */
export class RtspParser extends RtspFramer<ParsedItem> {
  private head: { start: string[]; response: boolean; headers: Map<string, string>; bodyLength: number } | null = null;

  constructor(private readonly limits: ParserLimits) {
    super(limits.maxHeaderBytes);
  }

  protected next(): ParsedItem | null {
    if (this.head) return this.body();
    const found = this.start();
    if (found === 'wait') return null;
    if (found === 'too-large') return fail(400, 'header block too large');
    return 'frame' in found ? found.frame : this.parseHead(found.head);
  }

  private parseHead(text: string): ParsedItem | null {
    const lines = headLines(text);
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
    const body = this.takeBody(head.bodyLength);
    if (!body) return null;
    this.head = null;
    const [a, b, c] = head.start as [string, string, string];
    if (head.response) return { kind: 'response', status: Number(b), headers: head.headers };
    return { kind: 'request', request: { method: a, uri: b, version: c, headers: head.headers, body } };
  }
}

function fail(status: 400 | 413 | 505, reason: string, cseq?: string): ParsedItem {
  return cseq === undefined ? { kind: 'error', status, reason } : { kind: 'error', status, reason, cseq };
}
