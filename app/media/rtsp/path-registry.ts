/** The published paths of a server, by name; announces them going online and offline. */
import type { Logger } from '../../log/logger.js';
import type { RtspPathStats } from '../../defs/rtsp.js';
import type { SessionDescription } from './sdp.js';
import { StreamPath, type PathSource } from './stream-path.js';
import type { TypedEmitter } from './typed-emitter.js';
import type { RtspServerEvents } from './types.js';

/** Path names: what cameras and bridges use, nothing that could confuse a URL or a log line. */
const PATH_NAME = /^[A-Za-z0-9_.~-]+(?:\/[A-Za-z0-9_.~-]+)*$/;

/** True when `name` is acceptable as a path. */
export function isValidPathName(name: string): boolean {
  return name.length <= 200 && PATH_NAME.test(name) && !name.split('/').some((s) => s === '.' || s === '..');
}

/** See the file comment. */
export class PathRegistry {
  private readonly paths = new Map<string, StreamPath>();

  constructor(
    private readonly events: TypedEmitter<RtspServerEvents>,
    private readonly log: Logger,
  ) {}

  /** The online path named `name`. */
  get(name: string): StreamPath | undefined {
    return this.paths.get(name);
  }

  /**
   * Puts a path online with a new source. An existing source is kicked: a camera that reconnects after a network
   * drop must win over its own half-dead previous connection.
   */
  publish(name: string, sdp: SessionDescription, source: PathSource): StreamPath {
    const old = this.paths.get(name);
    if (old) {
      this.unpublish(old, 'replaced by a new publisher');
      old.source.kick('replaced by a new publisher');
    }
    const path = new StreamPath(name, sdp, source);
    this.paths.set(name, path);
    this.log.info(
      { path: name, codecs: path.codecs, remote: source.remote, transport: source.transport },
      'path online',
    );
    this.events.emit('path-online', {
      path: name,
      codecs: path.codecs,
      remote: source.remote,
      transport: source.transport,
    });
    return path;
  }

  /**
   * Takes a path offline and disconnects its readers. The next step (publisher restarts) will instead keep the
   * StreamPath and its readers for a grace period and attach the next source with a compatible SDP.
   */
  unpublish(path: StreamPath, reason: string): void {
    if (path.isClosed) return;
    if (this.paths.get(path.name) === path) this.paths.delete(path.name);
    const readers = path.readerCount;
    path.close(reason);
    this.log.info({ path: path.name, reason, readers }, 'path offline');
    this.events.emit('path-offline', { path: path.name, reason });
  }

  /** Stats of every online path. */
  stats(): RtspPathStats[] {
    return [...this.paths.values()].map((p) => p.stats());
  }

  /** Takes every path offline (server stop). */
  closeAll(reason: string): void {
    for (const path of [...this.paths.values()]) this.unpublish(path, reason);
  }
}
