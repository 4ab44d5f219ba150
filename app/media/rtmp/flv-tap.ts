/**
 * The media tap: a subscriber NMS's BroadcastServer feeds exactly like an HTTP-FLV player (protocol "flv"), which
 * is the cheapest hook in NMS 4.4: the broadcast already builds one FLV tag per message for its flv subscribers
 * and GOP cache, and on subscribe replays its caches (broadcast_server.js postPlay). We parse each tag back into
 * (type, timestamp, body) without copying.
 *
 * Bytes NMS sends to an flv subscriber: first the 13-byte FLV file header (`FLV`, version 1, flags, header size 9,
 * PreviousTagSize0 = 0), then one buffer per tag: type(1) size(3) timestamp(3) timestamp-extended(1) streamId(3),
 * body(size), PreviousTagSize(4) = 11 + size (flv.js createMessage).
 */
import type { NmsSubscriber } from './nms-types.js';
import type { FlvTagType, TagListener } from './types.js';

/** One FLV tag. */
export interface FlvTag {
  type: FlvTagType;
  timestampMs: number;
  body: Buffer;
}

/** True for the 13-byte FLV file header NMS sends first. */
export function isFlvFileHeader(buf: Buffer): boolean {
  return buf.length === 13 && buf[0] === 0x46 && buf[1] === 0x4c && buf[2] === 0x56;
}

/** Parses one complete FLV tag (header + body + PreviousTagSize); null when it is not exactly one such tag. */
export function parseFlvTag(buf: Buffer): FlvTag | null {
  if (buf.length < 15) return null;
  const type = buf[0]! & 0x1f;
  if (type !== 8 && type !== 9 && type !== 18) return null;
  const size = buf.readUIntBE(1, 3);
  if (buf.length !== 11 + size + 4 || buf.readUInt32BE(11 + size) !== 11 + size) return null;
  // 24 low bits then the extension byte holding bits 24-31; >>> 0 keeps it unsigned.
  const timestampMs = ((buf[7]! << 24) | buf.readUIntBE(4, 3)) >>> 0;
  return { type, timestampMs, body: buf.subarray(11, 11 + size) };
}

let nextTapId = 0;

/** See the file comment. Created by RtmpIngest.onTag; `postPlay` it into a broadcast, `donePlay` to detach. */
export class FlvTap implements NmsSubscriber {
  readonly id = `cupola-tap-${++nextTapId}`;
  // Empty ip: NMS treats the session as internal (no prePlay/postPlay events, no auth, not counted as a player).
  readonly ip = '';
  readonly protocol = 'flv';
  endTime = 0;
  private failures = 0;

  constructor(
    private readonly listener: TagListener,
    private readonly onProblem: (what: string, err?: unknown) => void,
  ) {}

  /** Called by BroadcastServer with each buffer it would send to an HTTP-FLV player. */
  sendBuffer(buffer: Buffer): void {
    if (isFlvFileHeader(buffer)) return;
    const tag = parseFlvTag(buffer);
    if (!tag) {
      this.onProblem(`tap got ${buffer.length} bytes that are not one FLV tag`);
      return;
    }
    try {
      this.listener(tag.type, tag.timestampMs, tag.body);
    } catch (err) {
      // The call runs inside the publisher's socket handler: a throw here would close the publisher. Report the
      // first few, then stay quiet (a listener that throws per tag would flood the log at 25+ tags/s).
      if (++this.failures <= 3) this.onProblem('tap listener threw', err);
    }
  }
}
