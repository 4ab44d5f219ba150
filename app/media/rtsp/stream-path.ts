/**
 * One published path: its SDP, its source (a client in RECORD or an in-process publisher) and its readers. RTP is
 * fanned out synchronously to every reader's sink; a sink never blocks the others (it drops or is dropped).
 *
 * The path outlives a source: when a publisher restarts, the registry keeps the path (and its readers) for a grace
 * period and attaches the next source whose SDP can continue this one; TrackOutput keeps the RTP continuous.
 */
import type { RtspPathStats, RtspTransport } from '../../defs/rtsp.js';
import { isJoinPoint, joinRule, type JoinRule, type SenderReport } from './rtp-packet.js';
import { codecLabels, type SessionDescription } from './sdp.js';
import { RateWindow, TrackMeter } from './track-meter.js';
import { TrackOutput } from './track-output.js';

/** Where a reader's packets go (TCP interleaved on its connection, or the shared UDP sockets). */
export interface ReaderSink {
  readonly remote: string;
  readonly transport: RtspTransport;
  /** Sends one RTP packet of a track; false when it was dropped (queue full) or the track is not set up. */
  sendRtp(track: number, packet: Buffer): boolean;
  sendRtcp(track: number, packet: Buffer): void;
  /** The path is going away: disconnect the reader. */
  close(reason: string): void;
}

/** Who feeds the path; `kick` disconnects it when another publisher takes the path over. */
export interface PathSource {
  readonly remote: string;
  readonly transport: RtspTransport;
  kick(reason: string): void;
}

interface ReaderEntry {
  sink: ReaderSink;
  /** Per track: still waiting for a join point (see rtp-packet.ts). */
  waiting: boolean[];
  /** After this, a reader joins anyway: a stream without IDR pictures (intra refresh) must not starve it. */
  joinDeadline: number;
}

interface TrackState {
  rule: JoinRule;
  clockRate: number;
  output: TrackOutput;
  meter: TrackMeter;
  /** The last sender report (in output RTP time): how this track's RTP clock maps to the source's wall clock. */
  report: SenderReport | null;
}

/** How long a reader waits for a key frame before it gets whatever comes. */
const JOIN_WAIT_MS = 5_000;

/** A path while it has a source; see the file comment. */
export class StreamPath {
  private readonly readers = new Map<ReaderSink, ReaderEntry>();
  private readonly tracks: TrackState[];
  private readonly since = Date.now();
  private current: PathSource | null;
  private sourceSince = Date.now();
  private sources = 1;
  private closed = false;
  private bytesIn = 0;
  private packetsIn = 0;
  private bytesOut = 0;
  private packetsOut = 0;
  private packetsDropped = 0;
  private readonly rateOut = new RateWindow();

  constructor(
    readonly name: string,
    readonly sdp: SessionDescription,
    source: PathSource,
  ) {
    this.current = source;
    this.tracks = sdp.media.map((m) => ({
      rule: joinRule(m.codec),
      clockRate: m.clockRate,
      output: new TrackOutput(m.clockRate),
      meter: new TrackMeter(m),
      report: null,
    }));
  }

  /** Who feeds the path now; null between a publisher leaving and the next one (or the end of the grace). */
  get source(): PathSource | null {
    return this.current;
  }

  /** The source left; readers stay until attach() or close(). */
  detach(): void {
    this.current = null;
  }

  /**
   * A new source continues the path (its SDP was checked by canContinue). Readers wait for its first key frame, so
   * that no decoder gets pictures that reference the previous source's.
   */
  attach(source: PathSource): void {
    this.current = source;
    this.sourceSince = Date.now();
    this.sources++;
    for (const t of this.tracks) t.output.newSource();
    const deadline = Date.now() + JOIN_WAIT_MS;
    for (const entry of this.readers.values()) {
      entry.waiting = this.tracks.map((t) => t.rule !== 'any');
      entry.joinDeadline = deadline;
    }
  }

  /** Codec labels for events and logs. */
  get codecs(): string[] {
    return codecLabels(this.sdp);
  }

  /** Number of readers. */
  get readerCount(): number {
    return this.readers.size;
  }

  /** True once close() ran; a closed path accepts no reader and forwards nothing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts sending to a reader (after its PLAY response is written, so no frame precedes it). */
  addReader(sink: ReaderSink): void {
    if (this.closed) return sink.close('path is offline');
    const waiting = this.tracks.map((t) => t.rule !== 'any');
    this.readers.set(sink, { sink, waiting, joinDeadline: Date.now() + JOIN_WAIT_MS });
  }

  /** Stops sending to a reader (TEARDOWN, disconnect, or dropped). */
  removeReader(sink: ReaderSink): void {
    this.readers.delete(sink);
  }

  /** Fans one RTP packet of `from` out to every reader; packets of a source that was replaced are ignored. */
  writeRtp(from: PathSource, track: number, packet: Buffer): void {
    const state = this.tracks[track];
    if (this.closed || !state || from !== this.current) return;
    this.bytesIn += packet.length;
    this.packetsIn++;
    const now = Date.now();
    const out = state.output.rtp(packet, now);
    if (!out) return;
    // Once per packet: the meter counts key frames and waiting readers start at one.
    const join = isJoinPoint(state.rule, out);
    state.meter.add(out, out.readUInt32BE(4), now, join);
    const bytesBefore = this.bytesOut;
    for (const entry of this.readers.values()) {
      if (entry.waiting[track]) {
        if (!join && now < entry.joinDeadline) continue;
        entry.waiting[track] = false;
      }
      if (entry.sink.sendRtp(track, out)) {
        this.bytesOut += out.length;
        this.packetsOut++;
      } else {
        this.packetsDropped++;
      }
    }
    if (this.bytesOut !== bytesBefore) this.rateOut.add(this.bytesOut - bytesBefore, now);
  }

  /** Fans one RTCP packet of `from` (sender reports: readers need them for A/V sync) out to every reader. */
  writeRtcp(from: PathSource, track: number, packet: Buffer): void {
    const state = this.tracks[track];
    if (this.closed || !state || from !== this.current) return;
    const mapped = state.output.rtcp(packet);
    if (!mapped) return;
    state.report = mapped.report ?? state.report;
    for (const entry of this.readers.values()) entry.sink.sendRtcp(track, mapped.packet);
  }

  /**
   * The RTP-Info header of a PLAY response: per track, its URL and the RTP time of one common instant. No `seq`:
   * readers join at the next key frame, so the next sequence number is not known yet.
   *
   * Readers such as ffmpeg take each track's `rtptime` as its zero and later re-base every track on the first sender
   * report; if the rtptimes name different instants, one track jumps (backwards, when it is the audio) at that
   * moment. Packets of different tracks reach us with different delays (an RTP packet of AAC holds up to ~150 ms of
   * audio), so "the last packet plus the time since" is not one instant: with sender reports of every track, the
   * rtptimes are derived from the source's own clock instead.
   */
  rtpInfo(baseUrl: string): string | undefined {
    const now = Date.now();
    const live = this.tracks.flatMap((t, i) => {
      const last = t.output.lastPacket;
      return last && t.clockRate !== 0 ? [{ t, i, last }] : [];
    });
    if (live.length === 0) return undefined;
    const synced = live.every(({ t }) => t.report !== null);
    // The latest source-clock instant any track has reached, moved on by the time since its packet arrived.
    const instant = synced
      ? Math.max(...live.map(({ t, last }) => sourceTime(t, last.timestamp) + (now - last.at) / 1000))
      : 0;
    return live
      .map(({ t, i, last }) => {
        const rtptime = synced
          ? t.report!.rtpTimestamp + Math.round((instant - t.report!.ntpSeconds) * t.clockRate)
          : last.timestamp + Math.round(((now - last.at) * t.clockRate) / 1000);
        return `url=${baseUrl}/trackID=${i};rtptime=${rtptime >>> 0}`;
      })
      .join(',');
  }

  /** Disconnects every reader; the source is the caller's business (it may be the one leaving). */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const sinks = [...this.readers.keys()];
    this.readers.clear();
    for (const sink of sinks) sink.close(reason);
  }

  /** A snapshot for the API. */
  stats(): RtspPathStats {
    const now = Date.now();
    const tracks = this.tracks.map((t) => t.meter.stats(now));
    return {
      path: this.name,
      tracks,
      bitrateInKbps: tracks.reduce((sum, t) => sum + t.bitrateKbps, 0),
      bitrateOutKbps: Math.round((this.rateOut.perSecond(now) * 8) / 1000),
      publisher: this.current && { remote: this.current.remote, transport: this.current.transport },
      publishers: this.sources,
      publisherSince: new Date(this.sourceSince).toISOString(),
      readers: this.readers.size,
      bytesIn: this.bytesIn,
      packetsIn: this.packetsIn,
      bytesOut: this.bytesOut,
      packetsOut: this.packetsOut,
      packetsDropped: this.packetsDropped,
      onlineSince: new Date(this.since).toISOString(),
      uptimeMs: Date.now() - this.since,
    };
  }
}

/** The source's wall-clock time (NTP seconds) of an RTP timestamp of a track that has a sender report. */
function sourceTime(track: TrackState, timestamp: number): number {
  const report = track.report!;
  // Signed 32-bit difference: timestamps wrap.
  return report.ntpSeconds + ((timestamp - report.rtpTimestamp) | 0) / track.clockRate;
}
