/** A minimal typed event emitter whose listeners cannot break the emitting code (the media path). */

/** Subscribe/emit over an event map `E` (event name → data). */
export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<keyof E, Set<(data: never) => void>>();

  constructor(private readonly onListenerError: (type: string, err: unknown) => void) {}

  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends keyof E>(type: K, fn: (data: E[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as (data: never) => void);
    return () => set.delete(fn as (data: never) => void);
  }

  /** Calls every listener of `type`; a throwing listener is reported and skipped. */
  emit<K extends keyof E>(type: K, data: E[K]): void {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        (fn as (data: E[K]) => void)(data);
      } catch (err) {
        this.onListenerError(String(type), err);
      }
    }
  }
}
