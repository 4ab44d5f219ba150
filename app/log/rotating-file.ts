/** A size-rotated append-only log file: cupola.log, cupola.log.1 … cupola.log.N (oldest dropped). */
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';

/** Minimal writable used as a pino destination. Writes are synchronous so nothing is lost on a crash. */
export class RotatingFile {
  private fd: number | null = null;
  private size = 0;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {}

  /** Appends one log line, rotating first when the file would grow past maxBytes. */
  write(chunk: string): boolean {
    if (this.fd === null) this.open();
    const bytes = Buffer.byteLength(chunk);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    try {
      writeSync(this.fd!, chunk);
      this.size += bytes;
    } catch {
      // A full or vanished disk must not take the node down; stdout still carries the line.
    }
    return true;
  }

  /** Closes the file descriptor. */
  async close(): Promise<void> {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): void {
    this.fd = openSync(this.path, 'a', 0o640);
    this.size = existsSync(this.path) ? statSync(this.path).size : 0;
  }

  private rotate(): void {
    if (this.fd !== null) closeSync(this.fd);
    rmSync(`${this.path}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    this.open();
  }
}
