/** Statistics of one FLV→RTP bridge: what the RTMP side sends and what the bridge made of it. */

/** Where a bridge is: waiting for codec configuration and a key frame, streaming, or done. */
export type BridgeState = 'waiting' | 'live' | 'sink-closed' | 'failed' | 'closed';

/** Video side of BridgeStats. */
export interface BridgeVideoStats {
  /** `avc1.PPCCLL` from the SPS; undefined before the sequence header. */
  codec?: string;
  width?: number;
  height?: number;
  /** Access units sent as RTP. */
  frames: number;
  keyframes: number;
  /** Between the last two key frames, in frames and in seconds of media time. */
  keyframeIntervalFrames?: number;
  keyframeIntervalS?: number;
  /** Frames per second of media time over the last FPS_WINDOW frames. */
  fps?: number;
  packets: number;
  /** RTP payload bytes. */
  bytesOut: number;
}

/** Audio side of BridgeStats. */
export interface BridgeAudioStats {
  /** `mp4a.40.N`. */
  codec: string;
  sampleRate: number;
  channels: number;
  frames: number;
  packets: number;
  bytesOut: number;
  /** See AudioClock: re-anchors on gaps, frames dropped to stay monotonic. */
  reanchors: number;
  framesDropped: number;
}

/** A snapshot of one bridge. */
export interface BridgeStats {
  path: string;
  state: BridgeState;
  /** How often the path was published (1 + re-publishes after a codec configuration change). */
  publishes: number;
  /** FLV tag bodies received, in bytes and in tags. */
  bytesIn: number;
  tagsIn: number;
  /** Tags dropped while waiting for configuration + key frame, malformed, or of an unsupported codec. */
  droppedWaiting: number;
  invalid: number;
  unsupported: number;
  /** The last unsupported or invalid input, for the UI. */
  lastProblem?: string;
  /** FLV time jumps replaced by wall-clock time (see FlvTimeline). */
  discontinuities: number;
  video: BridgeVideoStats;
  /** Undefined while the published stream has no audio. */
  audio?: BridgeAudioStats;
}

/** Frames over which fps is estimated: long enough to smooth jitter, short enough to follow a change. */
export const FPS_WINDOW = 50;

/** Frame counting for the video side: key frame interval and fps from media time. */
export class VideoCounter {
  frames = 0;
  keyframes = 0;
  intervalFrames: number | undefined;
  intervalS: number | undefined;
  private lastKeyFrame = -1;
  private lastKeyMs = 0;
  private readonly times: number[] = [];

  /** Counts one frame at media time `ms` (dts). */
  frame(ms: number, keyframe: boolean): void {
    if (keyframe) {
      if (this.lastKeyFrame >= 0) {
        this.intervalFrames = this.frames - this.lastKeyFrame;
        this.intervalS = (ms - this.lastKeyMs) / 1000;
      }
      this.lastKeyFrame = this.frames;
      this.lastKeyMs = ms;
      this.keyframes++;
    }
    this.frames++;
    this.times.push(ms);
    if (this.times.length > FPS_WINDOW) this.times.shift();
  }

  /** Frames per second over the window; undefined until two frames with different times. */
  get fps(): number | undefined {
    const span = this.times[this.times.length - 1]! - this.times[0]!;
    if (this.times.length < 2 || !(span > 0)) return undefined;
    return Math.round((((this.times.length - 1) * 1000) / span) * 100) / 100;
  }
}
