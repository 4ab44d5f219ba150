/** Records what an RtmpIngest tap delivers, compactly enough to be sent over IPC from a fixture process. */
import type { FlvTagType } from '../../../app/media/rtmp/index.js';

/** One delivered tag: type, timestamp, body size, first two body bytes, wall-clock arrival. */
export interface TagRecord {
  type: FlvTagType;
  ts: number;
  size: number;
  b0: number;
  b1: number;
  at: number;
}

/** A JSON-friendly summary of a recording. */
export interface TagSummary {
  total: number;
  byType: Record<string, number>;
  /** The first 8 tags in delivery order. */
  first: TagRecord[];
  /** Video tags (coded frames only) with a timestamp not above the previous one. */
  videoTsBackwards: number;
  /** Coded video frames in the last `windowMs` of wall time, per second. */
  videoPerSecond: number;
  lastAt: number;
}

/** True for an AVC sequence header tag body (key frame + AVC, AVCPacketType 0). */
export function isAvcSequenceHeader(t: Pick<TagRecord, 'type' | 'b0' | 'b1'>): boolean {
  return t.type === 9 && t.b0 === 0x17 && t.b1 === 0;
}

/** True for an AAC AudioSpecificConfig tag body (AAC, AACPacketType 0). */
export function isAacConfig(t: Pick<TagRecord, 'type' | 'b0' | 'b1'>): boolean {
  return t.type === 8 && t.b0 >> 4 === 10 && t.b1 === 0;
}

/** True for a coded AVC frame (AVCPacketType 1). */
export function isAvcFrame(t: Pick<TagRecord, 'type' | 'b0' | 'b1'>): boolean {
  return t.type === 9 && (t.b0 & 0x0f) === 7 && t.b1 === 1;
}

/** See the file comment. */
export class TagRecorder {
  readonly tags: TagRecord[] = [];

  /** Pass as the onTag listener. */
  readonly listener = (type: FlvTagType, ts: number, body: Buffer): void => {
    if (this.tags.length >= 50_000) this.tags.splice(0, 10_000);
    this.tags.push({ type, ts, size: body.length, b0: body[0] ?? -1, b1: body[1] ?? -1, at: Date.now() });
  };

  /** Coded video frames only. */
  videoFrames(): TagRecord[] {
    return this.tags.filter(isAvcFrame);
  }

  /** See TagSummary. */
  summary(windowMs = 3000): TagSummary {
    const byType: Record<string, number> = {};
    for (const t of this.tags) byType[t.type] = (byType[t.type] ?? 0) + 1;
    const frames = this.videoFrames();
    let backwards = 0;
    for (let i = 1; i < frames.length; i++) if (frames[i]!.ts <= frames[i - 1]!.ts) backwards++;
    const now = Date.now();
    const recent = frames.filter((f) => f.at > now - windowMs).length;
    return {
      total: this.tags.length,
      byType,
      first: this.tags.slice(0, 8),
      videoTsBackwards: backwards,
      videoPerSecond: (recent * 1000) / windowMs,
      lastAt: this.tags[this.tags.length - 1]?.at ?? 0,
    };
  }
}
