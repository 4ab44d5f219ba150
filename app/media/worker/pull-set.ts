/**
 * A set of RTSP pullers kept in step with a list: the slave's rtsp-pull cameras (into F1 as `<camera id>`) and the
 * master's relays (a slave's F1 or F2 into `<site>/<camera>`). A changed URL, credential, path or target restarts
 * that puller; the others are left alone.
 */
import type { Logger } from '../../log/logger.js';
import { RtspPuller, type PullStats, type PullTarget } from '../rtsp-client/index.js';

/** One stream to pull. `key` names it in the set (and in stats); `target` is where it is published as `path`. */
export interface PullSpec {
  key: string;
  path: string;
  url: string;
  user: string | null;
  password: string | null;
  target: PullTarget;
}

/** What decides a restart. The target is compared by identity (one object per plane). */
const same = (a: PullSpec, b: PullSpec): boolean =>
  a.url === b.url && a.user === b.user && a.password === b.password && a.path === b.path && a.target === b.target;

/** See the file comment. */
export class PullSet {
  private readonly pullers = new Map<string, { puller: RtspPuller; spec: PullSpec }>();
  private readonly stopping = new Set<Promise<void>>();
  private running = false;

  constructor(private readonly log: Logger) {}

  /** Starts pulling `specs`. */
  start(specs: readonly PullSpec[]): void {
    this.running = true;
    this.reconcile(specs);
  }

  /** Adds, removes and restarts pullers so that exactly `specs` are pulled (no-op before start or after stop). */
  reconcile(specs: readonly PullSpec[]): void {
    if (!this.running) return;
    const wanted = new Map(specs.map((s) => [s.key, s]));
    for (const [key, entry] of this.pullers) {
      const next = wanted.get(key);
      if (!next || !same(next, entry.spec)) this.drop(key);
    }
    for (const spec of wanted.values()) {
      if (this.pullers.has(spec.key)) continue;
      const { url, user, password, path, target } = spec;
      const puller = new RtspPuller({ url, user, password, path, target, log: this.log.child({ pull: spec.key }) });
      this.pullers.set(spec.key, { puller, spec });
      puller.start();
    }
  }

  /** Stops every puller; resolves when their sessions and sockets are gone. */
  async stop(): Promise<void> {
    this.running = false;
    for (const key of [...this.pullers.keys()]) this.drop(key);
    await Promise.all([...this.stopping]);
  }

  /** State of the puller named `key`, if there is one. */
  stats(key: string): PullStats | undefined {
    return this.pullers.get(key)?.puller.stats();
  }

  /** Every puller with its state: also those not online, which are the ones an operator looks for. */
  list(): Array<PullStats & { key: string }> {
    return [...this.pullers].map(([key, { puller }]) => ({ key, ...puller.stats() }));
  }

  private drop(key: string): void {
    const entry = this.pullers.get(key);
    if (!entry) return;
    this.pullers.delete(key);
    // Its path is closed synchronously (the session ends at once); only the socket close is awaited.
    const done: Promise<void> = entry.puller.stop().finally(() => this.stopping.delete(done));
    this.stopping.add(done);
  }
}
