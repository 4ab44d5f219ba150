/** F1 from RTSP: one puller per enabled rtsp-pull camera, kept in step with the access tables the core sends. */
import type { Logger } from '../../log/logger.js';
import { RtspPuller, type PullStats, type PullTarget } from '../rtsp-client/index.js';
import type { AccessTables } from './protocol.js';

/** One pulled camera, as the core sends it. */
export type PullEntry = AccessTables['pulls'][number];

/** What decides a restart: a changed URL or credential starts a new puller. */
const identity = (p: PullEntry): string => JSON.stringify([p.url, p.user, p.password]);

/** See the file comment. */
export class F1Pull {
  private readonly pullers = new Map<string, { puller: RtspPuller; identity: string }>();
  private readonly stopping = new Set<Promise<void>>();
  private running = false;

  constructor(private readonly opts: { log: Logger; f1: PullTarget }) {}

  /** Starts pulling `pulls`. */
  start(pulls: readonly PullEntry[]): void {
    this.running = true;
    this.reconcile(pulls);
  }

  /** Adds, removes and restarts pullers so that exactly `pulls` are pulled (no-op before start or after stop). */
  reconcile(pulls: readonly PullEntry[]): void {
    if (!this.running) return;
    const wanted = new Map(pulls.map((p) => [p.id, p]));
    for (const [id, entry] of this.pullers) {
      const next = wanted.get(id);
      if (!next || identity(next) !== entry.identity) this.drop(id);
    }
    for (const p of wanted.values()) {
      if (this.pullers.has(p.id)) continue;
      const puller = new RtspPuller({
        url: p.url,
        user: p.user,
        password: p.password,
        path: p.id,
        target: this.opts.f1,
        log: this.opts.log.child({ camera: p.id }),
      });
      this.pullers.set(p.id, { puller, identity: identity(p) });
      puller.start();
    }
  }

  /** Stops every puller; resolves when their sessions and sockets are gone. */
  async stop(): Promise<void> {
    this.running = false;
    for (const id of [...this.pullers.keys()]) this.drop(id);
    await Promise.all([...this.stopping]);
  }

  /** State of the puller of camera `id`, if it is pulled. */
  stats(id: string): PullStats | undefined {
    return this.pullers.get(id)?.puller.stats();
  }

  /** Every pulled camera with its puller's state: also those not online, which are the ones an operator looks for. */
  list(): Array<PullStats & { camera: string }> {
    return [...this.pullers].map(([camera, { puller }]) => ({ camera, ...puller.stats() }));
  }

  private drop(id: string): void {
    const entry = this.pullers.get(id);
    if (!entry) return;
    this.pullers.delete(id);
    // Its path is closed synchronously (the session ends at once); only the socket close is awaited.
    const done: Promise<void> = entry.puller.stop().finally(() => this.stopping.delete(done));
    this.stopping.add(done);
  }
}
