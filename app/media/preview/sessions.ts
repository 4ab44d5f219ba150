/** Reference-counted preview sessions: one per key, shared by its users, stopped a linger time after the last left. */

/** Anything a SessionTable can stop. */
export interface Session {
  stop(): Promise<void>;
}

interface Entry<S> {
  session: S;
  users: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Sessions by key (`f1/cam1`, `f1/cam1@5fps/640w`...). acquire() creates or joins one; release() leaves it, and the
 * last release stops it after `lingerMs()` (0 = at once). A session being stopped is no longer in the table, so a
 * new acquire() of its key creates a fresh session meanwhile (callers give each session its own child name).
 */
export class SessionTable<S extends Session> {
  private readonly entries = new Map<string, Entry<S>>();
  private readonly ending = new Set<Promise<void>>();

  constructor(
    private readonly lingerMs: () => number,
    private readonly onStopError: (err: unknown, key: string) => void,
  ) {}

  /** Sessions currently in the table (lingering ones included). */
  get size(): number {
    return this.entries.size;
  }

  /** The session of `key`, if any. */
  get(key: string): S | undefined {
    return this.entries.get(key)?.session;
  }

  /** Every session with its key and number of users. */
  list(): Array<{ key: string; session: S; users: number }> {
    return [...this.entries].map(([key, e]) => ({ key, session: e.session, users: e.users }));
  }

  /** Joins the session of `key`, creating it with `create` when there is none; cancels a pending linger stop. */
  acquire(key: string, create: () => S): S {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { session: create(), users: 0, timer: null };
      this.entries.set(key, entry);
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.users += 1;
    return entry.session;
  }

  /** Leaves `session` (a no-op when it is no longer the session of `key`); the last user starts the linger. */
  release(key: string, session: S): void {
    const entry = this.entries.get(key);
    if (!entry || entry.session !== session || entry.users === 0) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    const ms = this.lingerMs();
    if (ms <= 0) this.end(key);
    else entry.timer = setTimeout(() => this.end(key), ms);
  }

  /** Stops every session now (pending lingers included) and waits for those already stopping. */
  async stopAll(): Promise<void> {
    for (const key of [...this.entries.keys()]) this.end(key);
    await Promise.all([...this.ending]);
  }

  private end(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    this.entries.delete(key);
    const done: Promise<void> = entry.session
      .stop()
      .catch((err: unknown) => this.onStopError(err, key))
      .finally(() => this.ending.delete(done));
    this.ending.add(done);
  }
}
