/** The published paths of a server, by name; announces them going online and offline. */
import type { Logger } from '../../log/logger.js';
import type { RtspPathStats } from '../../defs/rtsp.js';
import { canContinue, type SessionDescription } from './sdp.js';
import { StreamPath, type PathSource } from './stream-path.js';
import type { TypedEmitter } from './typed-emitter.js';
import type { RtspServerEvents } from './types.js';

/** Path names: what cameras and bridges use, nothing that could confuse a URL or a log line. */
const PATH_NAME = /^[A-Za-z0-9_.~-]+(?:\/[A-Za-z0-9_.~-]+)*$/;

/** True when `name` is acceptable as a path. */
export function isValidPathName(name: string): boolean {
  return name.length <= 200 && PATH_NAME.test(name) && !name.split('/').some((s) => s === '.' || s === '..');
}

/** A path whose publisher left while it had readers: kept until a compatible publisher comes back or time runs out. */
interface Waiting {
  path: StreamPath;
  timer: NodeJS.Timeout;
}

/** See the file comment. */
export class PathRegistry {
  private readonly paths = new Map<string, StreamPath>();
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly events: TypedEmitter<RtspServerEvents>,
    private readonly log: Logger,
    /** How long readers are kept for a publisher to come back (0: readers are closed at once). */
    private readonly graceMs: number,
  ) {}

  /** The online path named `name` (not one waiting for its publisher: new readers get 404 until it is back). */
  get(name: string): StreamPath | undefined {
    return this.paths.get(name);
  }

  /**
   * Puts a path online with a new source. A current source is kicked: a camera that reconnects after a network drop
   * must win over its own half-dead previous connection. When the path (online or waiting) can be continued by the
   * new SDP, its readers stay and get the new stream; otherwise they are closed and a new path starts.
   */
  publish(name: string, sdp: SessionDescription, source: PathSource): StreamPath {
    const waiting = this.waiting.get(name);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.waiting.delete(name);
    }
    const previous = this.paths.get(name) ?? waiting?.path;
    const old = previous?.source ?? null;
    let path: StreamPath;
    if (previous && canContinue(previous.sdp, sdp)) {
      path = previous;
      path.attach(source);
    } else {
      if (previous) this.end(previous, 'replaced by a publisher with different codecs');
      path = new StreamPath(name, sdp, source);
    }
    this.paths.set(name, path);
    old?.kick('replaced by a new publisher');
    const resumed = path === previous;
    if (resumed && !waiting) return path; // a take-over of a live path: online all along
    this.log.info(
      {
        path: name,
        codecs: path.codecs,
        remote: source.remote,
        transport: source.transport,
        readers: path.readerCount,
      },
      resumed ? 'path back online; its readers continue' : 'path online',
    );
    this.events.emit('path-online', {
      path: name,
      codecs: path.codecs,
      remote: source.remote,
      transport: source.transport,
      resumed,
    });
    return path;
  }

  /**
   * `source` stopped feeding `path` (no-op when another source already took over). With readers and a grace period,
   * the path waits for its publisher; otherwise it closes.
   */
  unpublish(path: StreamPath, source: PathSource, reason: string): void {
    if (path.isClosed || path.source !== source || this.paths.get(path.name) !== path) return;
    this.paths.delete(path.name);
    path.detach();
    const readers = path.readerCount;
    const keep = readers > 0 && this.graceMs > 0;
    this.log.info({ path: path.name, reason, readers, keptMs: keep ? this.graceMs : 0 }, 'path offline');
    this.events.emit('path-offline', { path: path.name, reason });
    if (!keep) return path.close(reason);
    const timer = setTimeout(() => {
      this.waiting.delete(path.name);
      this.end(path, `publisher did not come back within ${this.graceMs} ms`);
    }, this.graceMs);
    timer.unref();
    this.waiting.set(path.name, { path, timer });
  }

  /** Stats of every online path, and of paths waiting for their publisher (publisher null). */
  stats(): RtspPathStats[] {
    return [...this.paths.values(), ...[...this.waiting.values()].map((w) => w.path)].map((p) => p.stats());
  }

  /** Takes every path offline (server stop). */
  closeAll(reason: string): void {
    for (const path of this.paths.values()) {
      this.events.emit('path-offline', { path: path.name, reason });
      this.end(path, reason);
    }
    this.paths.clear();
    for (const { path, timer } of this.waiting.values()) {
      clearTimeout(timer);
      this.end(path, reason);
    }
    this.waiting.clear();
  }

  private end(path: StreamPath, reason: string): void {
    this.log.info({ path: path.name, reason, readers: path.readerCount }, 'path readers closed');
    path.close(reason);
  }
}
