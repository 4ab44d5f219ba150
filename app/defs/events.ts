/** Event types shared by the core's bus, the API's SSE stream and the renderer. Data shapes only, no logic. */
import type { CameraSourceKind } from './camera.js';
import type { ChildProgress } from './child.js';
import type { JobState } from './job.js';
import type { Role } from './node.js';
import type { PeerKind, PeerState, SlaveLinkState } from './peer.js';
import type { RelayStreamState, SseClientState, SwitchMode, UrlChangeSource } from './relay.js';

/** Every event the core publishes, by type. */
export interface EventMap {
  'node.started': { name: string; roles: Role[]; version: string };
  'node.stopping': { reason: string };
  'config.changed': { changed: string[]; restarted: string[]; restartRequired: string[] };
  'child.started': { name: string; pid: number; attempt: number };
  'child.progress': { name: string; progress: ChildProgress };
  'child.stalled': { name: string; pid: number; silentMs: number };
  'child.exited': { name: string; pid: number; code: number | null; signal: string | null; uptimeMs: number };
  'child.restarting': { name: string; attempt: number; delayMs: number };
  'child.gave-up': { name: string; attempts: number; reason: string };
  'auth.token-created': { id: string; name: string };
  'auth.token-revoked': { id: string };
  'camera.created': { id: string; kind: CameraSourceKind };
  'camera.updated': { id: string };
  'camera.deleted': { id: string };
  'camera.key-rotated': { id: string };
  'stream.online': { plane: 'f1' | 'f2'; path: string };
  'stream.offline': { plane: 'f1' | 'f2'; path: string };
  'media.auth-failed': { plane: 'f1' | 'f2' | 'rtmp'; path: string; remote: string; reason: string };
  'media.started': { host: string; rtmpPort: number; f1Port: number; f2Port: number };
  /** A compressor took a camera (free, expired or released before); renewals by the same holder are silent. */
  'lease.acquired': { cameraId: string; holder: string; ttlS: number };
  'lease.released': { cameraId: string; holder: string };
  /** The holder stopped renewing (it died or lost the slave); another compressor may take the camera now. */
  'lease.expired': { cameraId: string; holder: string };
  /** A compressor job changed state (see app/compressor/README.md); `reason` says why when there is something to say. */
  'job.state': {
    id: string;
    slave: string;
    camera: string;
    state: JobState;
    previous: JobState | null;
    reason: string | null;
  };
  /** A compressor's link to a slave (its event stream) changed state; see `peer.health` for a master's view. */
  'peer.state': { name: string; url: string; state: SlaveLinkState; error: string | null };
  /** A master's health check of a slave or compressor it watches changed that peer's state (app/cluster). */
  'peer.health': {
    kind: PeerKind;
    name: string;
    url: string;
    state: PeerState;
    previous: PeerState;
    rttMs: number | null;
    lastError: string | null;
  };
  /** A relay stream (app/relay) changed state; `reason` says why (the source's error while retrying). */
  'relay.stream.state': {
    id: string;
    state: RelayStreamState;
    previous: RelayStreamState | null;
    reason: string | null;
  };
  /** A relay stream's URLs changed (masked); `mode` is how the running job switched, null when it did not run. */
  'relay.urls.changed': {
    id: string;
    source: UrlChangeSource;
    rtspUrl: string;
    rtmpUrl: string;
    mode: SwitchMode | null;
    gapMs: number | null;
  };
  /** A URL update was refused (invalid URL, failed probe, failed switch): nothing changed. */
  'relay.update.rejected': { id: string; source: UrlChangeSource; errors: string[] };
  /** The relay's SSE client connected, lost its connection or waits to reconnect. */
  'relay.sse.state': { state: SseClientState; url: string | null; error: string | null; reconnectInMs: number | null };
  /** A line of a relay stream's log (also stored in stream_logs). */
  'relay.log': { id: string; level: 'info' | 'warn' | 'error'; message: string };
}

/** One of the keys of EventMap. */
export type EventType = keyof EventMap;

/** An event as stored in the ring buffer and sent over SSE. `id` is 0 for volatile events (not resumable). */
export interface BusEvent<K extends EventType = EventType> {
  id: number;
  type: K;
  time: string;
  data: EventMap[K];
}

/** Event types that are delivered live but never kept for Last-Event-ID resume (high rate, only the latest matters). */
export const VOLATILE_EVENTS: ReadonlySet<EventType> = new Set<EventType>(['child.progress']);
