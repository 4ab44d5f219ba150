/** F1 from RTMP: cameras publish to the ingest, each accepted publish feeds a bridge that publishes RTP on F1. */
import { keyMatches } from '../../cameras/registry.js';
import type { Logger } from '../../log/logger.js';
import { FlvToRtpBridge, type RtpSink } from '../bridge/index.js';
import {
  RtmpIngest,
  type AuthorizePlay,
  type PublishRequest,
  type RtmpIngestCounters,
  type RtmpStreamStats,
} from '../rtmp/index.js';
import type { AccessTables } from './protocol.js';

/** Where bridges publish (the F1 RTSP server). */
export interface F1Target {
  publish(path: string, sdp: string): RtpSink;
}

/** True when `req` publishes `live/<camera>` of an enabled push camera with its current key. */
export function publishAllowed(tables: AccessTables, req: PublishRequest): boolean {
  if (req.app !== 'live') return false;
  const camera = tables.cameras.find((c) => c.id === req.name);
  const key = req.query.key;
  return camera !== undefined && typeof key === 'string' && keyMatches(key, camera.keyHash);
}

/** The RTMP ingest and one bridge per live camera. */
export class F1Ingest {
  private ingest: RtmpIngest | null = null;
  private readonly live = new Map<string, { bridge: FlvToRtpBridge; untap: () => void; session: string }>();
  private offs: Array<() => void> = [];

  constructor(
    private readonly opts: {
      host: string;
      port: number;
      log: Logger;
      tables: () => AccessTables;
      f1: F1Target;
      onRefused: (req: PublishRequest) => void;
      /** Plays of relayed streams (the master); none without it. */
      authorizePlay?: AuthorizePlay;
    },
  ) {}

  /** Totals of the RTMP ingest (null before start). */
  get counters(): RtmpIngestCounters | null {
    return this.ingest?.counters ?? null;
  }

  /** The RTMP server while it runs (the master's relays publish into it). */
  get rtmp(): RtmpIngest | null {
    return this.ingest;
  }

  /** The RTMP port actually listened on. */
  get port(): number {
    return this.ingest?.port ?? 0;
  }

  /** Listens for cameras. */
  async start(): Promise<void> {
    const { log } = this.opts;
    const ingest = new RtmpIngest({
      port: this.opts.port,
      host: this.opts.host,
      log: log.child({ component: 'rtmp' }),
      authorizePlay: this.opts.authorizePlay,
      authorizePublish: (req) => {
        const ok = publishAllowed(this.opts.tables(), req);
        if (!ok) this.opts.onRefused(req);
        return ok;
      },
    });
    await ingest.start();
    this.ingest = ingest;
    this.offs.push(
      ingest.onPublish((s) => {
        this.drop(s.name);
        const bridge = new FlvToRtpBridge({
          path: s.name,
          publish: (path, sdp) => this.opts.f1.publish(path, sdp),
          log: log.child({ component: 'bridge', camera: s.name }),
        });
        const untap = ingest.onTag(s.name, (type, ts, payload) => bridge.onTag(type, ts, payload));
        this.live.set(s.name, { bridge, untap, session: s.id });
      }),
      ingest.onUnpublish((s) => {
        // A late unpublish of an older session must not end the camera's newer one.
        if (this.live.get(s.name)?.session === s.id) this.drop(s.name);
      }),
    );
  }

  /** Stops every bridge and the ingest. */
  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    for (const name of [...this.live.keys()]) this.drop(name);
    await this.ingest?.stop();
    this.ingest = null;
  }

  /** Ingest-side stats of every publishing camera. */
  streams(): RtmpStreamStats[] {
    return this.ingest?.streams() ?? [];
  }

  private drop(name: string): void {
    const entry = this.live.get(name);
    if (!entry) return;
    entry.untap();
    entry.bridge.close();
    this.live.delete(name);
  }
}
