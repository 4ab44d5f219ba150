/** Bounded line handling for child output: split chunks into lines, keep the last N. */

/** Longest line kept; ffmpeg can print very long lines (e.g. SDP) and a broken child could print no newline at all. */
export const MAX_LINE_CHARS = 2000;

/** A fixed-capacity ring of text lines, oldest first when read. */
export class LineRing {
  private readonly lines: string[] = [];

  constructor(private readonly capacity = 200) {}

  /** Appends a line, dropping the oldest one when full. */
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** A copy of the kept lines, oldest first. */
  toArray(): string[] {
    return this.lines.slice();
  }
}

/** Splits a stream of text chunks into lines (`\n`, `\r\n` or a lone `\r`), without unbounded buffering. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds a chunk; calls onLine for every line it completes. */
  write(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r\n|\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const part of parts) this.emit(part);
    if (this.partial.length > MAX_LINE_CHARS) {
      this.emit(this.partial);
      this.partial = '';
    }
  }

  /** Emits what is left without a newline (at stream end). */
  flush(): void {
    if (this.partial) this.emit(this.partial);
    this.partial = '';
  }

  private emit(line: string): void {
    if (line.length === 0) return;
    this.onLine(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
  }
}
