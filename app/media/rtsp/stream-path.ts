/**
 * One published path: its SDP, its source (a client in RECORD or an in-process publisher) and its readers. RTP is
 * fanned out synchronously to every reader's sink; a sink never blocks the others (it drops or is dropped).
 */
import type { RtspPathStats, RtspTransport } from '../../defs/rtsp.js';
import { isJoinPoint, joinRule, rtpHeader, senderReport, type JoinRule, type SenderReport } from './rtp-packet.js';
import { codecLabels, trackInfo, type SessionDescription } from './sdp.js';

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
  lastTimestamp: number;
  lastArrival: number;
  /** The source's last sender report: how this track's RTP clock maps to the source's wall clock. */
  report: SenderReport | null;
}

/** How long a reader waits for a key frame before it gets whatever comes. */
const JOIN_WAIT_MS = 5_000;

/** A path while it has a source; see the file comment. */
export class StreamPath {
  private readonly readers = new Map<ReaderSink, ReaderEntry>();
  private readonly tracks: TrackState[];
  private readonly since = Date.now();
  private closed = false;
  private bytesIn = 0;
  private packetsIn = 0;
  private bytesOut = 0;
  private packetsOut = 0;
  private packetsDropped = 0;

  constructor(
    readonly name: string,
    readonly sdp: SessionDescription,
    readonly source: PathSource,
  ) {
    this.tracks = sdp.media.map((m) => ({
      rule: joinRule(m.codec),
      clockRate: m.clockRate,
      lastTimestamp: 0,
      lastArrival: 0,
      report: null,
    }));
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

  /** Fans one RTP packet of the source out to every reader. */
  writeRtp(track: number, packet: Buffer): void {
    const state = this.tracks[track];
    if (this.closed || !state) return;
    this.bytesIn += packet.length;
    this.packetsIn++;
    const header = rtpHeader(packet);
    if (header) {
      state.lastTimestamp = header.timestamp;
      state.lastArrival = Date.now();
    }
    let join: boolean | undefined;
    for (const entry of this.readers.values()) {
      if (entry.waiting[track]) {
        join ??= isJoinPoint(state.rule, packet);
        if (!join && Date.now() < entry.joinDeadline) continue;
        entry.waiting[track] = false;
      }
      if (entry.sink.sendRtp(track, packet)) {
        this.bytesOut += packet.length;
        this.packetsOut++;
      } else {
        this.packetsDropped++;
      }
    }
  }

  /** Fans one RTCP packet (sender reports: readers need them for A/V sync) out to every reader. */
  writeRtcp(track: number, packet: Buffer): void {
    const state = this.tracks[track];
    if (this.closed || !state) return;
    state.report = senderReport(packet) ?? state.report;
    for (const entry of this.readers.values()) entry.sink.sendRtcp(track, packet);
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
    const live = this.tracks.map((t, i) => ({ t, i })).filter(({ t }) => t.lastArrival !== 0 && t.clockRate !== 0);
    if (live.length === 0) return undefined;
    const synced = live.every(({ t }) => t.report !== null);
    // The latest source-clock instant any track has reached, moved on by the time since its packet arrived.
    const instant = synced
      ? Math.max(...live.map(({ t }) => sourceTime(t, t.lastTimestamp) + (now - t.lastArrival) / 1000))
      : 0;
    return live
      .map(({ t, i }) => {
        const rtptime = synced
          ? t.report!.rtpTimestamp + Math.round((instant - t.report!.ntpSeconds) * t.clockRate)
          : t.lastTimestamp + Math.round(((now - t.lastArrival) * t.clockRate) / 1000);
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
    return {
      path: this.name,
      tracks: trackInfo(this.sdp),
      publisher: { remote: this.source.remote, transport: this.source.transport },
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
