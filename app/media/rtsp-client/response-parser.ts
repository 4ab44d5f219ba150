/**
 * Incremental parser of what an RTSP server (a camera) sends to a client: responses with their body, `$`
 * interleaved frames, and the odd request a server may send (answered or ignored by the caller). It never throws:
 * malformed input yields one `error` item, after which the parser swallows everything (the connection is ending).
 *
 * The server's own parser (app/media/rtsp/request-parser.ts) frames responses but drops their body and their
 * repeated headers, which a client needs (the SDP of DESCRIBE, every WWW-Authenticate challenge).
 */

import { RtspFramer, headLines } from '../rtsp/framer.js';

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

interface Head {
  status: number | null;
  reason: string;
  method: string;
  headers: Map<string, string>;
  authenticate: string[];
  bodyLength: number;
}

/** Streaming parser; feed it with push() in chunks of any size. */
export class ResponseParser extends RtspFramer<ClientItem> {
  private head: Head | null = null;

  constructor(private readonly limits: ResponseParserLimits = DEFAULT_LIMITS) {
    super(limits.maxHeaderBytes);
  }

  protected next(): ClientItem | null {
    if (this.head) return this.body();
    const found = this.start();
    if (found === 'wait') return null;
    if (found === 'too-large') return { kind: 'error', reason: 'header block too large' };
    return 'frame' in found ? found.frame : this.parseHead(found.head);
  }

  private parseHead(text: string): ClientItem | null {
    const lines = headLines(text);
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
    const body = this.takeBody(head.bodyLength);
    if (!body) return null;
    this.head = null;
    if (head.status === null) return { kind: 'request', method: head.method, cseq: head.headers.get('cseq') };
    const { status, reason, headers, authenticate } = head;
    return { kind: 'response', reply: { status, reason, headers, authenticate, body } };
  }
}
