/** Shapes of the dynamic stream controller (app/relay): stream jobs, URL changes, the SSE client. Data only. */
import type { ChildProgress } from './child.js';

/** Where a relay stream is: stopped, opening its source, producing, waiting to retry, switching URLs, given up. */
export type RelayStreamState = 'stopped' | 'starting' | 'running' | 'retrying' | 'switching' | 'failed';

/** Every preset name, for validation and the UI. */
export const RELAY_PRESETS = ['auto', 'copy', 'transcode'] as const;

/** How a stream is encoded when no ffmpeg_params set the codecs: auto = copy H.264, else libx264 veryfast. */
export type RelayPreset = (typeof RELAY_PRESETS)[number];

/** Who changed a stream's URLs: the SSE control server, the seed's config endpoint, or an operator. */
export type UrlChangeSource = 'sse' | 'api' | 'manual';

/** How a running job moved to new URLs: fast restart (same destination) or make-before-break (new destination). */
export type SwitchMode = 'restart' | 'make-before-break';

/**
 * The last switch of a stream. `gapMs`: output gap measured from the jobs' progress (0 for make-before-break; null
 * when the new job had not produced within the switch timeout).
 */
export interface RelaySwitch {
  at: string;
  mode: SwitchMode;
  gapMs: number | null;
  /** make-before-break: how long both jobs produced at once. */
  overlapMs: number | null;
}

/** A relay stream as the API and UI show it; URLs have their credentials masked (`rtsp://admin:***@...`). */
export interface RelayStreamView {
  id: string;
  name: string;
  rtspUrl: string;
  rtmpUrl: string;
  preset: RelayPreset;
  ffmpegParams: string | null;
  autoRestart: boolean;
  /** Wanted running (start/stop); survives a restart of the node. */
  enabled: boolean;
  state: RelayStreamState;
  reason: string | null;
  pid: number | null;
  restarts: number;
  startedAt: string | null;
  progress: ChildProgress | null;
  lastSwitch: RelaySwitch | null;
  /** `timestamp` of the last url_update applied from SSE (ISO), or null. */
  lastUpdateAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The SSE client's connection state. `waiting` = disconnected, reconnecting after a delay. */
export type SseClientState = 'disabled' | 'connecting' | 'connected' | 'waiting';

/** The SSE client as the API shows it (URL without credentials). */
export interface SseClientStatus {
  state: SseClientState;
  url: string | null;
  lastEventId: string | null;
  connectedAt: string | null;
  lastEventAt: string | null;
  /** Connections opened after the first one. */
  reconnects: number;
  lastError: string | null;
  eventsReceived: number;
  /** Malformed or oversized input skipped. */
  refused: number;
}

/** What became of a received SSE event. */
export type SseEventOutcome =
  'applied' | 'unchanged' | 'duplicate' | 'stale' | 'invalid' | 'refused' | 'ignored' | 'failed';

/** A stored SSE event (data with credentials masked). */
export interface SseEventRecord {
  id: number;
  eventId: string | null;
  eventType: string;
  data: string;
  receivedAt: string;
  processed: boolean;
  outcome: SseEventOutcome | null;
  error: string | null;
}

/** One row of url_history (URLs masked). */
export interface UrlHistoryRecord {
  id: number;
  streamId: string;
  oldRtspUrl: string | null;
  newRtspUrl: string | null;
  oldRtmpUrl: string | null;
  newRtmpUrl: string | null;
  changeSource: UrlChangeSource;
  eventId: string | null;
  switched: boolean;
  gapMs: number | null;
  createdAt: string;
}

/** One row of stream_logs. */
export interface StreamLogRecord {
  id: number;
  streamId: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  createdAt: string;
}
