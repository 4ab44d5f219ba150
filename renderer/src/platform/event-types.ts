/** The event types the UI listens for on the SSE stream, kept complete with EventMap by the compiler. */
import type { EventType } from '../../../app/defs/events.js';

/** Every EventMap key at runtime: SSE named events only reach listeners registered for their exact name. */
export const EVENT_TYPES = [
  'node.started',
  'node.stopping',
  'config.changed',
  'child.started',
  'child.progress',
  'child.stalled',
  'child.exited',
  'child.restarting',
  'child.gave-up',
  'auth.token-created',
  'auth.token-revoked',
  'camera.created',
  'camera.updated',
  'camera.deleted',
  'camera.key-rotated',
  'stream.online',
  'stream.offline',
  'media.auth-failed',
  'media.started',
  'lease.acquired',
  'lease.released',
  'lease.expired',
  'job.state',
  'peer.state',
  'peer.health',
  'relay.stream.state',
  'relay.urls.changed',
  'relay.update.rejected',
  'relay.sse.state',
  'relay.log',
] as const satisfies readonly EventType[];

// Fails to compile, naming the type, when EventMap gains an event this list lacks.
type Missing = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;
