/** Cuts a byte stream of concatenated JPEG images (ffmpeg `-f image2pipe -c:v mjpeg`) into whole images. */

/** Largest image accepted; a longer run without an end marker is dropped as garbage. */
export const MAX_JPEG_BYTES = 16 * 1024 * 1024;

const SOI = Buffer.from([0xff, 0xd8]);

type Scan = { kind: 'frame'; start: number; end: number } | { kind: 'more'; start: number } | { kind: 'resync' };

/**
 * Walks the markers of the image that starts at or after `from`: segment lengths up to the scan data, then the
 * entropy-coded bytes (where 0xFF is stuffed as FF 00 or is a restart marker) up to the next marker, until EOI.
 * Scanning by segment keeps an FF D9 inside a header (an EXIF thumbnail) from ending the image early.
 */
function scan(buf: Buffer, from: number): Scan {
  const start = buf.indexOf(SOI, from);
  // No image starts here yet: keep a trailing 0xFF, it may be the first half of a start marker.
  if (start < 0) return { kind: 'more', start: buf.at(-1) === 0xff ? buf.length - 1 : buf.length };
  let i = start + 2;
  for (;;) {
    if (i + 1 >= buf.length) return { kind: 'more', start };
    if (buf[i] !== 0xff) return { kind: 'resync' };
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) return { kind: 'frame', start, end: i + 2 };
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    if (marker === 0xd8 || marker === 0x00) return { kind: 'resync' };
    if (i + 3 >= buf.length) return { kind: 'more', start };
    const length = buf.readUInt16BE(i + 2);
    if (length < 2) return { kind: 'resync' };
    i += 2 + length;
    if (marker !== 0xda) continue;
    // Entropy-coded data: runs until a 0xFF followed by something other than 00, a restart marker or fill.
    for (;;) {
      const ff = buf.indexOf(0xff, i);
      if (ff < 0 || ff + 1 >= buf.length) return { kind: 'more', start };
      const next = buf[ff + 1]!;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
        i = ff + 2;
        continue;
      }
      i = ff;
      break;
    }
  }
}

/** Feeds whole JPEG images to `onImage`; bytes before an image's start marker and broken images are dropped. */
export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onImage: (jpeg: Buffer) => void,
    private readonly maxBytes = MAX_JPEG_BYTES,
  ) {}

  /** Bytes held for an image not complete yet. */
  get pending(): number {
    return this.buf.length;
  }

  /** Forgets a partial image (the writer restarted: its next bytes start a new stream). */
  reset(): void {
    this.buf = Buffer.alloc(0);
  }

  /** Adds bytes; calls onImage for every image they complete. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let from = 0;
    for (;;) {
      const r = scan(this.buf, from);
      if (r.kind === 'frame') {
        // A copy: the image outlives this buffer (cached for snapshots, queued on sockets).
        this.onImage(Buffer.from(this.buf.subarray(r.start, r.end)));
        from = r.end;
      } else if (r.kind === 'resync') {
        const next = this.buf.indexOf(SOI, this.startOf(from) + 2);
        if (next < 0) {
          this.buf = Buffer.alloc(0);
          return;
        }
        from = next;
      } else {
        this.buf = r.start >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(r.start);
        if (this.buf.length > this.maxBytes) this.buf = Buffer.alloc(0);
        return;
      }
    }
  }

  private startOf(from: number): number {
    const start = this.buf.indexOf(SOI, from);
    return start < 0 ? from : start;
  }
}
