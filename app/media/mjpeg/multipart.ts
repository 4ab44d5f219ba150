/** One MJPEG viewer: JPEG images as parts of a `multipart/x-mixed-replace` response, skipped when the viewer lags. */

/** The boundary between parts (never occurs in the part headers we write). */
export const BOUNDARY = 'cupola-mjpeg-frame';
/** Content-Type of the response. */
export const MULTIPART_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;

/** The writable side a viewer writes to (a ServerResponse or its socket). */
export interface PartSink {
  write(chunk: Buffer): boolean;
  /** Ends the response (the preview stopped). */
  end(): void;
  readonly writableLength: number;
  readonly destroyed: boolean;
}

/** Counters of one viewer. */
export interface ViewerCounters {
  sent: number;
  skipped: number;
  /** Bytes written but not yet handed to the kernel, now. */
  queuedBytes: number;
}

/**
 * Writes an image as one part unless at least an image's worth of earlier parts is still queued in user space: then
 * the image is skipped, so a slow or paused viewer holds at most about two images in memory (the rest of one being
 * written, and this one) and gets the newest image when it catches up. A part still partly queued after a short hiccup
 * does not cost the next image. The kernel's socket buffers are the only other queue.
 */
export class MultipartViewer {
  private sent = 0;
  private skipped = 0;

  constructor(private readonly out: PartSink) {}

  /** Writes or skips `jpeg`; true when written. */
  offer(jpeg: Buffer): boolean {
    if (this.out.destroyed || this.out.writableLength >= jpeg.length) {
      this.skipped += 1;
      return false;
    }
    const head = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
    this.out.write(Buffer.concat([Buffer.from(head, 'latin1'), jpeg, Buffer.from('\r\n', 'latin1')]));
    this.sent += 1;
    return true;
  }

  /** Ends the response. */
  end(): void {
    if (!this.out.destroyed) this.out.end();
  }

  /** What was sent and skipped so far. */
  counters(): ViewerCounters {
    return { sent: this.sent, skipped: this.skipped, queuedBytes: this.out.writableLength };
  }
}
