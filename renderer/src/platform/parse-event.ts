/** Parsing of SSE payloads, kept free of DOM types so it is unit-tested in Node. */
import type { BusEvent } from '../../../app/defs/events.js';

/** Parses one SSE `data:` payload; anything that is not a BusEvent is dropped rather than crashing the feed. */
export function parseBusEvent(data: string): BusEvent | null {
  try {
    const v = JSON.parse(data) as Partial<BusEvent> | null;
    if (v && typeof v.type === 'string' && typeof v.time === 'string' && typeof v.id === 'number') return v as BusEvent;
  } catch {
    // not JSON
  }
  return null;
}
