/** One-line, human wording of each bus event for the feed. */
import type { BusEvent, EventType } from '../../../app/defs/events.js';

/** How loud a feed row is. */
export type Severity = 'info' | 'warn' | 'error';

/** BusEvent as a discriminated union, so a switch on `type` narrows `data`. */
type AnyBusEvent = { [K in EventType]: BusEvent<K> }[EventType];

/** Text and severity for one event. */
export function describeEvent(event: BusEvent): { text: string; severity: Severity } {
  const e = event as AnyBusEvent;
  switch (e.type) {
    case 'node.started':
      return { text: `Node ${e.data.name} started (${e.data.roles.join(', ')}, v${e.data.version})`, severity: 'info' };
    case 'node.stopping':
      return { text: `Node stopping: ${e.data.reason}`, severity: 'warn' };
    case 'config.changed': {
      const pending = e.data.restartRequired.length
        ? `; restart required for ${e.data.restartRequired.join(', ')}`
        : '';
      return {
        text: `Config changed: ${e.data.changed.join(', ') || 'nothing'}${pending}`,
        severity: pending ? 'warn' : 'info',
      };
    }
    case 'child.started':
      return { text: `${e.data.name} started (pid ${e.data.pid}, attempt ${e.data.attempt})`, severity: 'info' };
    case 'child.progress':
      return { text: `${e.data.name} progress`, severity: 'info' };
    case 'child.stalled':
      return {
        text: `${e.data.name} stalled: no output for ${Math.round(e.data.silentMs / 1000)} s`,
        severity: 'warn',
      };
    case 'child.exited': {
      const how = e.data.signal ? `signal ${e.data.signal}` : `code ${e.data.code}`;
      return { text: `${e.data.name} exited (${how})`, severity: e.data.code === 0 ? 'info' : 'warn' };
    }
    case 'child.restarting':
      return {
        text: `${e.data.name} restarting in ${(e.data.delayMs / 1000).toFixed(1)} s (attempt ${e.data.attempt})`,
        severity: 'warn',
      };
    case 'child.gave-up':
      return { text: `${e.data.name} gave up after ${e.data.attempts} attempts: ${e.data.reason}`, severity: 'error' };
    case 'auth.token-created':
      return { text: `API token "${e.data.name}" created`, severity: 'info' };
    case 'auth.token-revoked':
      return { text: `API token ${e.data.id} revoked`, severity: 'warn' };
    case 'camera.created':
      return { text: `Camera ${e.data.id} added (${e.data.kind})`, severity: 'info' };
    case 'camera.updated':
      return { text: `Camera ${e.data.id} changed`, severity: 'info' };
    case 'camera.deleted':
      return { text: `Camera ${e.data.id} removed`, severity: 'warn' };
    case 'camera.key-rotated':
      return { text: `Publish key of camera ${e.data.id} rotated`, severity: 'warn' };
    case 'stream.online':
      return { text: `${e.data.plane.toUpperCase()} ${e.data.path} online`, severity: 'info' };
    case 'stream.offline':
      return { text: `${e.data.plane.toUpperCase()} ${e.data.path} offline`, severity: 'warn' };
    case 'media.auth-failed':
      return {
        text: `Refused ${e.data.plane} ${e.data.path} from ${e.data.remote}: ${e.data.reason}`,
        severity: 'warn',
      };
    case 'media.started':
      return {
        text: `Media plane listening: RTMP ${e.data.rtmpPort}, F1 ${e.data.f1Port}, F2 ${e.data.f2Port}`,
        severity: 'info',
      };
    case 'lease.acquired':
      return { text: `Camera ${e.data.cameraId} leased to ${e.data.holder} (${e.data.ttlS} s)`, severity: 'info' };
    case 'lease.released':
      return { text: `${e.data.holder} released camera ${e.data.cameraId}`, severity: 'info' };
    case 'lease.expired':
      return { text: `Lease of camera ${e.data.cameraId} by ${e.data.holder} expired`, severity: 'warn' };
    case 'job.state': {
      const bad = e.data.state === 'failed' || e.data.state === 'degraded';
      const why = e.data.reason ? ` (${e.data.reason})` : '';
      return { text: `Job ${e.data.id}: ${e.data.state}${why}`, severity: bad ? 'warn' : 'info' };
    }
    case 'peer.state': {
      const why = e.data.error ? ` (${e.data.error})` : '';
      return {
        text: `Slave ${e.data.name}: ${e.data.state}${why}`,
        severity: e.data.state === 'online' ? 'info' : 'warn',
      };
    }
    case 'peer.health': {
      const kind = e.data.kind === 'slave' ? 'Slave' : 'Compressor';
      const why = e.data.state === 'down' && e.data.lastError ? ` (${e.data.lastError})` : '';
      return {
        text: `${kind} ${e.data.name} is ${e.data.state}${why}`,
        severity: e.data.state === 'down' ? 'warn' : 'info',
      };
    }
    case 'relay.stream.state': {
      const bad = e.data.state === 'failed' || e.data.state === 'retrying';
      const why = e.data.reason ? ` (${e.data.reason})` : '';
      return { text: `Relay ${e.data.id}: ${e.data.state}${why}`, severity: bad ? 'warn' : 'info' };
    }
    case 'relay.urls.changed': {
      const how = e.data.mode ? `, ${e.data.mode}, gap ${e.data.gapMs ?? '?'} ms` : ', applies at next start';
      return { text: `Relay ${e.data.id}: URLs changed by ${e.data.source}${how}`, severity: 'info' };
    }
    case 'relay.update.rejected':
      return {
        text: `Relay ${e.data.id}: update from ${e.data.source} refused: ${e.data.errors.join('; ')}`,
        severity: 'warn',
      };
    case 'relay.sse.state': {
      const why = e.data.error ? ` (${e.data.error})` : '';
      return {
        text: `Relay control stream: ${e.data.state}${why}`,
        severity: e.data.state === 'waiting' ? 'warn' : 'info',
      };
    }
    case 'relay.log':
      return { text: `Relay ${e.data.id}: ${e.data.message}`, severity: e.data.level };
    default:
      // A core newer than this UI: show the raw type rather than nothing.
      return { text: String((event as { type: string }).type), severity: 'info' };
  }
}

/** `1d 02:03:04`-style uptime for operators scanning a wall of nodes. */
export function formatUptime(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(s / 86_400);
  const hms = [Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60), s % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  return days ? `${days}d ${hms}` : hms;
}
