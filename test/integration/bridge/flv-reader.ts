/**
 * Test helper: reads an FLV byte stream (FLV spec v10.1 E.2/E.3: 9-byte header, then PreviousTagSize + 11-byte tag
 * header + body, repeated) into tags, as an RTMP server would hand them to the bridge. Written apart from the
 * bridge on purpose: the tests check the bridge against an independent reading of ffmpeg's output.
 */

/** One FLV tag: type (8 audio, 9 video, 18 script), 32-bit timestamp in ms, body. */
export interface FlvFileTag {
  type: number;
  timestamp: number;
  body: Buffer;
}

/** Incremental FLV reader: push() chunks as they arrive, get the complete tags back. */
export class FlvReader {
  private buffer: Buffer = Buffer.alloc(0);
  private headerDone = false;
  /** Set when the stream is not FLV; no more tags are returned. */
  error: string | undefined;

  push(chunk: Buffer): FlvFileTag[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const tags: FlvFileTag[] = [];
    if (!this.headerDone) {
      if (this.buffer.length < 13) return tags;
      if (this.buffer.toString('latin1', 0, 3) !== 'FLV') {
        this.error = 'not an FLV stream';
        return tags;
      }
      // Header size from the header itself, then PreviousTagSize0.
      this.buffer = this.buffer.subarray(this.buffer.readUInt32BE(5) + 4);
      this.headerDone = true;
    }
    let at = 0;
    while (!this.error && this.buffer.length - at >= 11) {
      const size = this.buffer.readUIntBE(at + 1, 3);
      if (this.buffer.length - at < 11 + size + 4) break;
      const timestamp = (this.buffer.readUIntBE(at + 4, 3) | (this.buffer[at + 7]! << 24)) >>> 0;
      const body = Buffer.from(this.buffer.subarray(at + 11, at + 11 + size));
      tags.push({ type: this.buffer[at]! & 0x1f, timestamp, body });
      at += 11 + size + 4;
    }
    this.buffer = this.buffer.subarray(at);
    return tags;
  }
}

/** Reads a whole FLV file's bytes into tags. */
export function readFlv(bytes: Buffer): FlvFileTag[] {
  const reader = new FlvReader();
  const tags = reader.push(bytes);
  if (reader.error) throw new Error(reader.error);
  return tags;
}
