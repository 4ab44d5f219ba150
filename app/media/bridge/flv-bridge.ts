/**
 * One RTMP publish → one RTSP path, in process: FLV tags in, SDP + RTP (+ RTCP sender reports) out through the
 * RTSP server's publisher API. See README.md for the publish and re-publish rules.
 */
import { AacPacketizer } from './aac-packetizer.js';
import { VideoCounter, type BridgeState, type BridgeStats } from './bridge-stats.js';
import { parseFlvTag, splitNalus, type AacConfig, type AvcConfig } from './flv-tags.js';
import { H264Packetizer } from './h264-packetizer.js';
import { parseSps, type SpsInfo } from '../codec/h264-sps.js';
import { buildSdp } from './sdp.js';
import { AudioClock, FlvTimeline } from './timeline.js';

/** What the bridge writes to: the RTSP server's PublisherHandle satisfies it. */
export interface RtpSink {
  /** False once the sink no longer takes packets (closed, or another publisher took the path). */
  writeRtp(trackIndex: number, packet: Buffer): boolean;
  writeRtcp(trackIndex: number, packet: Buffer): boolean;
  close(): void;
}

/** The logging the bridge does (a pino Logger fits). */
export interface BridgeLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of FlvToRtpBridge. */
export interface FlvToRtpBridgeOptions {
  /** RTSP path name, e.g. `cam1`. */
  path: string;
  /** Puts the path online with this SDP (e.g. `(p, sdp) => rtspServer.publish(p, sdp)`); may throw. */
  publish: (path: string, sdp: string) => RtpSink;
  log: BridgeLog;
  /** RTP payload budget (default 1200). */
  maxPayloadBytes?: number;
  /** Wall-clock period of RTCP sender reports per track (default 5000; 0 disables them). */
  senderReportIntervalMs?: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

const VIDEO = 0;
const AUDIO = 1;

/** See the file comment. Never throws from onTag(): its caller is the RTMP server's data path. */
/** Sender reports: media time and wall clock may part this much (ms) before the anchor moves; see report(). */
const REANCHOR_MS = 1000;

export class FlvToRtpBridge {
  private readonly now: () => number;
  private readonly timeline: FlvTimeline;
  private readonly video: H264Packetizer;
  private readonly audio: AacPacketizer;
  private readonly counter = new VideoCounter();
  private readonly reportEveryMs: number;
  private readonly cname: string;
  private readonly sessionId = Math.floor(Math.random() * 1e9);
  private state: BridgeState = 'waiting';
  private sink: RtpSink | undefined;
  private avc: AvcConfig | undefined;
  private sps: SpsInfo | undefined;
  private aac: AacConfig | undefined;
  /** What the current SDP announces; a configuration that differs from it means a re-publish. */
  private publishedAvc: AvcConfig | undefined;
  private publishedAac: AacConfig | undefined;
  private audioClock: AudioClock | undefined;
  private audioFrames = 0;
  private publishes = 0;
  private currentSdp: string | undefined;
  private nextReportAt = 0;
  private readonly reported = new Set<number>();
  /** Wall clock ↔ media time of the sender reports; see report(). */
  private reportAnchor: { wall: number; ms: number } | null = null;
  private readonly counts = { bytesIn: 0, tagsIn: 0, droppedWaiting: 0, invalid: 0, unsupported: 0 };
  private lastProblem: string | undefined;
  private errors = 0;

  constructor(private readonly opts: FlvToRtpBridgeOptions) {
    this.now = opts.now ?? Date.now;
    this.timeline = new FlvTimeline(this.now);
    this.video = new H264Packetizer({ maxPayloadBytes: opts.maxPayloadBytes });
    this.audio = new AacPacketizer({ maxPayloadBytes: opts.maxPayloadBytes });
    this.reportEveryMs = opts.senderReportIntervalMs ?? 5000;
    this.cname = `cupola/${opts.path}`;
  }

  /** The SDP of the current publication; undefined before the first. */
  get sdp(): string | undefined {
    return this.currentSdp;
  }

  /** Feeds one RTMP audio (8) or video (9) message: FLV timestamp in ms, payload = the FLV tag body. */
  onTag(type: number, timestampMs: number, payload: Buffer): void {
    this.counts.bytesIn += payload.length;
    this.counts.tagsIn++;
    if (this.state !== 'waiting' && this.state !== 'live') return;
    try {
      this.handle(type, timestampMs, payload);
    } catch (err) {
      // A bug here must cost a frame, not the RTMP session: log the first few and every 1000th after.
      if (this.errors++ < 5 || this.errors % 1000 === 0) {
        this.opts.log.error({ err, path: this.opts.path, errors: this.errors }, 'FLV bridge failed on a tag');
      }
    }
  }

  /** Takes the path offline; later tags are ignored. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sink?.close();
    this.sink = undefined;
  }

  /** A snapshot of the counters. */
  stats(): BridgeStats {
    const c = this.counter;
    const v = this.video.rtp;
    const a = this.audio.rtp;
    const aac = this.publishedAac;
    return {
      path: this.opts.path,
      state: this.state,
      publishes: this.publishes,
      ...this.counts,
      ...(this.lastProblem !== undefined && { lastProblem: this.lastProblem }),
      discontinuities: this.timeline.discontinuities,
      video: {
        ...(this.sps && { codec: this.sps.codec, width: this.sps.width, height: this.sps.height }),
        frames: c.frames,
        keyframes: c.keyframes,
        ...(c.intervalFrames !== undefined && { keyframeIntervalFrames: c.intervalFrames }),
        ...(c.intervalS !== undefined && { keyframeIntervalS: c.intervalS }),
        ...(c.fps !== undefined && { fps: c.fps }),
        packets: v.packetCount,
        bytesOut: v.octetCount,
      },
      ...(aac && {
        audio: {
          codec: aac.codec,
          sampleRate: aac.sampleRate,
          channels: aac.channels,
          frames: this.audioFrames,
          packets: a.packetCount,
          bytesOut: a.octetCount,
          reanchors: this.audioClock?.reanchors ?? 0,
          framesDropped: this.audioClock?.dropped ?? 0,
        },
      }),
    };
  }

  private handle(type: number, timestampMs: number, payload: Buffer): void {
    const tag = parseFlvTag(type, payload);
    switch (tag.kind) {
      case 'avc-config':
        this.avc = tag.config;
        this.sps = parseSps(tag.config.sps[0]!);
        if (this.state === 'live' && !sameAvc(tag.config, this.publishedAvc)) this.publish('new H.264 parameter sets');
        return;
      case 'aac-config':
        this.aac = tag.config;
        if (this.state === 'live' && !this.publishedAac?.asc.equals(tag.config.asc)) this.publish('new AAC config');
        return;
      case 'avc-frame':
        return this.onVideo(timestampMs, tag.keyframe, tag.cts, tag.data);
      case 'aac-frame':
        return this.onAudio(timestampMs, tag.data);
      case 'invalid':
      case 'unsupported':
        return this.problem(tag.kind, tag.reason);
      default:
        return; // avc-end, ignored: nothing to do for RTP
    }
  }

  private onVideo(timestampMs: number, keyframe: boolean, cts: number, data: Buffer): void {
    const avc = this.avc;
    const nalus = avc && splitNalus(data, avc.lengthSize);
    if (!avc || !nalus) {
      if (avc) this.problem('invalid', 'AVC frame with NAL lengths past its end');
      else this.counts.droppedWaiting++;
      return;
    }
    const key = keyframe || nalus.some((n) => (n[0]! & 0x1f) === 5);
    if (this.state === 'waiting') {
      if (!key) return void this.counts.droppedWaiting++;
      this.publish('first key frame');
      if (!this.isLive()) return;
    }
    const ms = this.timeline.toMs('video', timestampMs);
    const packets = this.video.packetize(nalus, (ms + cts) * 90, key, avc);
    if (packets.length === 0) return;
    this.counter.frame(ms, key);
    this.write(VIDEO, packets);
    this.report(ms);
  }

  private onAudio(timestampMs: number, frame: Buffer): void {
    const clock = this.audioClock;
    if (this.state !== 'live' || !clock) return void this.counts.droppedWaiting++;
    const ms = this.timeline.toMs('audio', timestampMs);
    const ticks = clock.next(ms);
    if (ticks === undefined) return;
    const packets = this.audio.packetize(frame, ticks);
    if (packets.length === 0) return this.problem('invalid', `AAC frame of ${frame.length} bytes`);
    this.audioFrames++;
    this.write(AUDIO, packets);
    this.report(ms);
  }

  /**
   * (Re-)publishes with the SDP of the current configuration. Audio is in it only when its config is known now:
   * waiting longer would hold video back for streams that never send audio.
   */
  private publish(why: string): void {
    const avc = this.avc!;
    const aac = this.aac;
    const sdp = buildSdp({
      name: this.opts.path,
      sessionId: this.sessionId,
      sessionVersion: this.publishes + 1,
      video: avc,
      ...(aac && { audio: aac }),
    });
    const log = { path: this.opts.path, why, video: this.sps?.codec, audio: aac?.codec, size: this.size() };
    try {
      // The server replaces the previous publication of the path (readers reconnect and get the new SDP).
      this.sink = this.opts.publish(this.opts.path, sdp);
    } catch (err) {
      this.state = 'failed';
      this.sink = undefined;
      this.opts.log.error({ ...log, err }, 'FLV bridge could not publish');
      return;
    }
    this.state = 'live';
    this.publishes++;
    this.currentSdp = sdp;
    this.publishedAvc = avc;
    if (aac && !aac.asc.equals(this.publishedAac?.asc ?? Buffer.alloc(0))) {
      this.audioClock = new AudioClock(aac.sampleRate, aac.frameSamples);
    }
    this.publishedAac = aac;
    this.reported.clear();
    this.reportAnchor = null;
    this.opts.log.info({ ...log, publishes: this.publishes }, 'FLV bridge published');
  }

  private write(track: number, packets: Buffer[]): void {
    for (const p of packets) {
      if (this.sink?.writeRtp(track, p)) continue;
      // Closed under us: the server stopped or another publisher took the path. Stay quiet until close().
      this.state = 'sink-closed';
      this.sink = undefined;
      this.opts.log.warn({ path: this.opts.path }, 'FLV bridge: the RTSP path was closed or taken over');
      return;
    }
  }

  /**
   * RTCP sender reports: at a track's first packet, then every reportEveryMs. Both tracks map the same media time
   * `ms` to the same wall clock, which is all a reader needs to line them up.
   *
   * The wall clock of a report is a steady anchor plus media time, not the moment the tag happened to arrive:
   * readers such as ffmpeg re-base every timestamp on each report, so arrival jitter (network, a busy event loop)
   * in the reports would move all later timestamps back and forth by that much. The anchor moves only when media
   * time and the wall clock part by more than REANCHOR_MS (a camera clock that drifts, a stall shorter than a jump).
   */
  private report(ms: number): void {
    const sink = this.sink;
    if (!sink || this.reportEveryMs <= 0) return;
    const now = this.now();
    const due = now >= this.nextReportAt;
    if (due) this.nextReportAt = now + this.reportEveryMs;
    let anchor = this.reportAnchor;
    if (!anchor || Math.abs(now - (anchor.wall + ms - anchor.ms)) > REANCHOR_MS) {
      anchor = this.reportAnchor = { wall: now, ms };
    }
    const wall = anchor.wall + (ms - anchor.ms);
    const ticks = [ms * 90, this.audioClock?.ticksAt(ms)];
    for (const [track, rtp] of [this.video.rtp, this.audio.rtp].entries()) {
      const at = ticks[track];
      if ((!due && this.reported.has(track)) || at === undefined || rtp.packetCount === 0) continue;
      sink.writeRtcp(track, rtp.senderReport(wall, rtp.timestamp(at), this.cname));
      this.reported.add(track);
    }
  }

  private problem(kind: 'invalid' | 'unsupported', reason: string): void {
    this.counts[kind]++;
    // Logged when the problem changes, not per tag: a camera sending HEVC would otherwise flood the log.
    if (reason !== this.lastProblem)
      this.opts.log.warn({ path: this.opts.path, kind, reason }, 'FLV bridge: tag dropped');
    this.lastProblem = reason;
  }

  /** A method, so that TypeScript does not keep the narrowing of `state` across a publish() call. */
  private isLive(): boolean {
    return this.state === 'live';
  }

  private size(): string | undefined {
    return this.sps && `${this.sps.width}x${this.sps.height}`;
  }
}

function sameAvc(a: AvcConfig, b: AvcConfig | undefined): boolean {
  const same = (x: Buffer[], y: Buffer[]): boolean => x.length === y.length && x.every((n, i) => n.equals(y[i]!));
  return b !== undefined && same(a.sps, b.sps) && same(a.pps, b.pps);
}
