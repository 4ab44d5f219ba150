/** Pure helpers for the live event feed: newest first, bounded, no duplicates after an SSE reconnect. */
import type { BusEvent, EventType } from '../../../app/defs/events.js';

/** How many events the dashboard keeps; older ones are dropped, the core keeps the full history. */
export const FEED_LIMIT = 200;

/** High-rate events that would flush everything else out of a bounded list; the feed skips them. */
export const FEED_SKIPS: ReadonlySet<EventType> = new Set<EventType>(['child.progress']);

/** Returns a new list with `event` in front, at most `limit` long; an event already present (same non-zero id) is ignored. */
export function prependEvent(list: readonly BusEvent[], event: BusEvent, limit = FEED_LIMIT): BusEvent[] {
  if (FEED_SKIPS.has(event.type)) return list as BusEvent[];
  if (event.id !== 0 && list.some((e) => e.id === event.id)) return list as BusEvent[];
  const next = [event, ...list];
  if (next.length > limit) next.length = limit;
  return next;
}
