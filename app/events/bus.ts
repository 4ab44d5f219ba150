/** The one typed event bus of a core: publish, subscribe, and a bounded history for SSE resume. */
import { VOLATILE_EVENTS, type BusEvent, type EventMap, type EventType } from '../defs/events.js';

/** A subscriber to every event. */
export type AnyListener = (event: BusEvent) => void;

/** The result of asking for events after a given id. */
export type Replay = { ok: true; events: BusEvent[] } | { ok: false; oldestId: number };

/** Typed publish/subscribe with a ring buffer of the last `capacity` non-volatile events. */
export class EventBus {
  private readonly listeners = new Map<EventType, Set<(e: BusEvent) => void>>();
  private readonly anyListeners = new Set<AnyListener>();
  private readonly ring: BusEvent[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 1000) {}

  /** Publishes an event; listeners that throw are isolated from each other and from the publisher. */
  emit<K extends EventType>(type: K, data: EventMap[K]): BusEvent<K> {
    const volatile = VOLATILE_EVENTS.has(type);
    const event: BusEvent<K> = { id: volatile ? 0 : this.nextId++, type, time: new Date().toISOString(), data };
    if (!volatile) {
      this.ring.push(event as BusEvent);
      if (this.ring.length > this.capacity) this.ring.shift();
    }
    for (const fn of this.listeners.get(type) ?? []) safeCall(fn, event as BusEvent);
    for (const fn of this.anyListeners) safeCall(fn, event as BusEvent);
    return event;
  }

  /** Subscribes to one type; returns the unsubscribe function. */
  on<K extends EventType>(type: K, fn: (event: BusEvent<K>) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const wrapped = fn as (e: BusEvent) => void;
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  /** Subscribes to every type; returns the unsubscribe function. */
  onAny(fn: AnyListener): () => void {
    this.anyListeners.add(fn);
    return () => this.anyListeners.delete(fn);
  }

  /** The id of the newest stored event (0 when none). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /**
   * Events with id > `afterId`. Fails when some of them have already left the ring, so the caller can tell the
   * client it missed events instead of silently skipping them.
   */
  since(afterId: number): Replay {
    if (afterId > this.lastId) return { ok: false, oldestId: this.ring[0]?.id ?? this.nextId };
    if (afterId === this.lastId) return { ok: true, events: [] };
    const oldest = this.ring[0]?.id ?? this.nextId;
    if (afterId + 1 < oldest) return { ok: false, oldestId: oldest };
    return { ok: true, events: this.ring.filter((e) => e.id > afterId) };
  }

  /** Number of listeners, for leak checks in tests and metrics. */
  get listenerCount(): number {
    let n = this.anyListeners.size;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

function safeCall(fn: (e: BusEvent) => void, event: BusEvent): void {
  try {
    fn(event);
  } catch (err) {
    // A broken subscriber must not break the publisher (often a child-process handler) or other subscribers.
    queueMicrotask(() => {
      process.emitWarning(`event listener for ${event.type} threw: ${(err as Error).message}`);
    });
  }
}
