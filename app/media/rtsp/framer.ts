/**
 * The framing both RTSP parsers share (the server's request parser and the pull client's response parser): a
 * buffer fed in chunks of any size, `$` interleaved frames, the search for the end of a header block that resumes
 * where it stopped, and the rule that one fatal error ends the stream. Subclasses read heads and bodies.
 */

const EMPTY = Buffer.alloc(0);

/** What every parser yields besides its own items. */
export type Frame = { kind: 'frame'; channel: number; payload: Buffer };

/** See the file comment. `Item` is the subclass's union; an item of kind `error` is fatal. */
export abstract class RtspFramer<Item extends { kind: string }> {
  protected buf: Buffer = EMPTY;
  /** Where the search for the end of the header block resumes, so a slow header is not rescanned from the start. */
  private scanFrom = 0;
  private dead = false;

  constructor(protected readonly maxHeaderBytes: number) {}

  /** True when part of a message has arrived and the rest has not (drives the slow-loris timeout). */
  get hasPartial(): boolean {
    return !this.dead && this.buf.length > 0;
  }

  /** True after a fatal error. */
  get failed(): boolean {
    return this.dead;
  }

  /** Appends bytes and returns every complete item they finish, in order. */
  push(chunk: Buffer): Item[] {
    if (this.dead || chunk.length === 0) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const items: Item[] = [];
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

  /** The next complete item, or null when more bytes are needed. */
  protected abstract next(): Item | null;

  /**
   * Skips stray line breaks between messages (RFC 7826 §20.2.1), then says what starts here: a `$` frame, a header
   * block (its text, already consumed), `wait` for more bytes, or `too-large`.
   */
  protected start(): { frame: Frame } | { head: string } | 'wait' | 'too-large' {
    let at = 0;
    while (at < this.buf.length && (this.buf[at] === 0x0d || this.buf[at] === 0x0a)) at++;
    if (at > 0) this.consume(at);
    if (this.buf.length === 0) return 'wait';
    if (this.buf[0] === 0x24) {
      const frame = this.frame();
      return frame ? { frame } : 'wait';
    }
    const end = this.findHeaderEnd();
    if (end === null) {
      // +3: a terminator starting at the last allowed byte needs two more bytes to be seen; deciding earlier would
      // make the outcome depend on how the input was chunked.
      return this.buf.length >= this.maxHeaderBytes + 3 ? 'too-large' : 'wait';
    }
    const head = this.buf.toString('latin1', 0, end.headerEnd);
    this.consume(end.bodyStart);
    return { head };
  }

  /** The body of `length` bytes (copied), or null while it has not all arrived. */
  protected takeBody(length: number): Buffer | null {
    if (this.buf.length < length) return null;
    const body = length === 0 ? EMPTY : Buffer.from(this.buf.subarray(0, length));
    this.consume(length);
    return body;
  }

  private frame(): Frame | null {
    if (this.buf.length < 4) return null;
    const length = this.buf.readUInt16BE(2);
    if (this.buf.length < 4 + length) return null;
    const item: Frame = { kind: 'frame', channel: this.buf[1]!, payload: this.buf.subarray(4, 4 + length) };
    this.consume(4 + length);
    return item;
  }

  private findHeaderEnd(): { headerEnd: number; bodyStart: number } | null {
    const limit = Math.min(this.buf.length, this.maxHeaderBytes + 1);
    for (let i = this.scanFrom; i < limit; i++) {
      if (this.buf[i] !== 0x0a) continue;
      const a = this.buf[i + 1];
      const b = this.buf[i + 2];
      // An empty line ends the block; bare LF line ends are accepted too, as lenient peers send them.
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

  private consume(n: number): void {
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.scanFrom = 0;
  }
}

/** Lines of a header block, CR stripped. */
export function headLines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}
