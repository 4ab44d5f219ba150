/**
 * An incremental Server-Sent Events parser (the WHATWG event-stream rules) for input we do not trust: it never
 * throws, keeps at most one line and one event in memory, and reports what it skipped instead of failing. How the
 * bytes are cut into chunks never changes what it yields.
 */

/** What push() and end() yield, in stream order. */
export type SseItem =
  | { kind: 'event'; type: string; data: string; id: string }
  | { kind: 'retry'; ms: number }
  | { kind: 'comment'; text: string }
  | { kind: 'error'; reason: SseErrorReason; detail: string };

/** Why input was skipped. */
export type SseErrorReason = 'line-too-long' | 'event-too-large' | 'unknown-field' | 'bad-field';

/** Bounds, in UTF-16 code units of the decoded text. */
export interface SseLimits {
  maxLineChars: number;
  maxEventChars: number;
}

/** Lines longer than this are skipped; our slave's longest lines are a few hundred characters. */
export const DEFAULT_SSE_LIMITS: SseLimits = { maxLineChars: 64 * 1024, maxEventChars: 1024 * 1024 };

/** See the file comment. One instance per connection. */
export class SseReader {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private readonly limits: SseLimits;
  private line: string[] = [];
  private lineChars = 0;
  /** The current line went over the limit: drop the rest of it. */
  private skippingLine = false;
  /** The previous chunk ended in CR: an LF starting the next one belongs to the same line end. */
  private afterCR = false;
  private type = '';
  private data: string[] = [];
  private eventChars = 0;
  /** The current event went over the limit: ignore its fields up to the blank line. */
  private skippingEvent = false;
  private idBuffer = '';
  private out: SseItem[] = [];
  /** The id of the last event dispatched (the value to send as Last-Event-ID). */
  lastEventId = '';
  /** Errors reported so far. */
  errors = 0;

  constructor(limits: Partial<SseLimits> = {}) {
    this.limits = { ...DEFAULT_SSE_LIMITS, ...limits };
  }

  /** Feeds bytes (or already decoded text) and returns the items they complete. */
  push(chunk: Uint8Array | string): SseItem[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    this.scan(text);
    return this.take();
  }

  /** The stream ended: an unterminated line or event is discarded, as the spec says. */
  end(): SseItem[] {
    this.decoder.decode();
    this.line = [];
    this.lineChars = 0;
    this.skippingLine = false;
    this.type = '';
    this.data = [];
    this.eventChars = 0;
    this.skippingEvent = false;
    return this.take();
  }

  private take(): SseItem[] {
    const items = this.out;
    this.out = [];
    return items;
  }

  private scan(text: string): void {
    let at = 0;
    if (this.afterCR && text.length > 0) {
      if (text[0] === '\n') at = 1;
      this.afterCR = false;
    }
    // Next LF and CR, searched again only once passed (-1: none left), so that many short lines stay linear.
    let lf = -2;
    let cr = -2;
    while (at < text.length) {
      if (lf !== -1 && lf < at) lf = text.indexOf('\n', at);
      if (cr !== -1 && cr < at) cr = text.indexOf('\r', at);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (end < 0) {
        this.append(text.slice(at));
        return;
      }
      this.append(text.slice(at, end));
      this.endLine();
      at = end + 1;
      if (text[end] === '\r') {
        if (at < text.length) {
          if (text[at] === '\n') at++;
        } else this.afterCR = true;
      }
    }
  }

  private append(part: string): void {
    if (part.length === 0 || this.skippingLine) return;
    this.lineChars += part.length;
    if (this.lineChars > this.limits.maxLineChars) {
      this.skippingLine = true;
      this.line = [];
      this.error('line-too-long', `a line longer than ${this.limits.maxLineChars} characters`);
      return;
    }
    this.line.push(part);
  }

  private endLine(): void {
    const skipped = this.skippingLine;
    const line = this.line.join('');
    this.line = [];
    this.lineChars = 0;
    this.skippingLine = false;
    // A skipped line counts as a broken event: its other lines must not be dispatched as if whole.
    if (skipped) this.skippingEvent = true;
    else if (line === '') this.dispatch();
    else this.field(line);
  }

  private field(line: string): void {
    if (line.startsWith(':')) {
      this.out.push({ kind: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    if (this.skippingEvent) return;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    switch (name) {
      case 'event':
        this.type = value;
        return this.grow(value.length);
      case 'data':
        this.data.push(value);
        return this.grow(value.length + 1);
      case 'id':
        if (value.includes('\0')) return this.error('bad-field', 'an id with a NUL character');
        this.idBuffer = value;
        return;
      case 'retry':
        if (!/^\d{1,9}$/.test(value)) return this.error('bad-field', `retry is not a number of ms: ${clip(value)}`);
        this.out.push({ kind: 'retry', ms: Number(value) });
        return;
      default:
        this.error('unknown-field', `unknown field ${clip(name)}`);
    }
  }

  private grow(chars: number): void {
    this.eventChars += chars;
    if (this.eventChars <= this.limits.maxEventChars) return;
    this.skippingEvent = true;
    this.data = [];
    this.error('event-too-large', `an event larger than ${this.limits.maxEventChars} characters`);
  }

  private dispatch(): void {
    // The id is taken even from an event that carries no data or was skipped, as the spec does: a resume starts after it.
    this.lastEventId = this.idBuffer;
    const skipped = this.skippingEvent;
    const hasData = this.data.length > 0;
    const type = this.type || 'message';
    const data = this.data.join('\n');
    this.type = '';
    this.data = [];
    this.eventChars = 0;
    this.skippingEvent = false;
    if (skipped || !hasData) return;
    this.out.push({ kind: 'event', type, data, id: this.lastEventId });
  }

  private error(reason: SseErrorReason, detail: string): void {
    this.errors++;
    this.out.push({ kind: 'error', reason, detail });
  }
}

/** A short, printable excerpt of untrusted text for an error message. */
function clip(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > 40 ? `${printable.slice(0, 40)}...` : printable);
}
