/** The state of one RTSP session: created by the first SETUP, owned by its connection, gone with it. */
import { randomBytes } from 'node:crypto';
import type { TrackRoutes } from './reader-sink.js';
import type { SessionDescription } from './sdp.js';
import type { ReaderSink, StreamPath } from './stream-path.js';

/** A reader sink that may also watch itself for stalls (TCP). */
export type SessionSink = ReaderSink & { checkStall?(now: number): void };

/** See the file comment. */
export class RtspSession {
  /** 64 random bits: session ids must not be guessable, they are the only link between requests over UDP. */
  readonly id = randomBytes(8).toString('hex');
  state: 'ready' | 'playing' | 'recording' = 'ready';
  transport: 'tcp' | 'udp' | undefined;
  lastActivity = Date.now();
  /** Per track: interleaved channel pair (TCP) or client port pair (UDP). */
  readonly routes: TrackRoutes = new Map();
  /** TCP: which track and kind each interleaved channel carries. */
  readonly channels = new Map<number, { track: number; rtcp: boolean }>();
  /** Undo functions (UDP routes) run when the session ends. */
  readonly cleanups: (() => void)[] = [];
  /** The reader's sink while playing. */
  sink: SessionSink | undefined;

  constructor(
    readonly mode: 'play' | 'record',
    readonly pathName: string,
    readonly sdp: SessionDescription,
    /** Play: the path read (bound at SETUP, so a publisher change in between is noticed). Record: set at RECORD. */
    public streamPath: StreamPath | undefined,
  ) {}

  /** Marks the session alive (any request, packet or report from its client). */
  touch(): void {
    this.lastActivity = Date.now();
  }

  /** The `Session` header value. */
  header(timeoutMs: number): string {
    return `${this.id};timeout=${Math.max(1, Math.round(timeoutMs / 1000))}`;
  }
}
