/** What a preview is of: a stream this node serves, named `<feed>/<path>`, and where to read it. */

/** F1 (full quality, from the cameras) or F2 (compressed). */
export type Feed = 'f1' | 'f2';

/** A stream that previews can read. `url` carries credentials: never log it. */
export interface PreviewSource {
  /** An RTSP URL (with an internal read credential) that ffmpeg can open over TCP. */
  url: string;
  /** False when the path is known but has no publisher now: previews answer with an error instead of waiting. */
  online: boolean;
}

/**
 * How previews find streams. The slave role plugs in its local F1/F2 ports; the master role will plug in its
 * relayed paths. `null` = this node serves no such path.
 */
export interface PreviewSources {
  resolve(feed: Feed, path: string): PreviewSource | null;
}

/** Why a preview could not be served; the API maps `reason` onto a status and an error code. */
export type PreviewFailure = 'unknown' | 'offline' | 'busy' | 'timeout' | 'stopped';

/** A preview that cannot be served, with a message for the client (no URL, no credential). */
export class PreviewError extends Error {
  constructor(
    readonly reason: PreviewFailure,
    message: string,
  ) {
    super(message);
    this.name = 'PreviewError';
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_SEGMENTS = 8;

/**
 * Splits `f1/site1/cam1` into its feed and stream path; null when it is not a preview name (wrong feed, empty
 * segment, a segment not starting with a letter or digit, characters outside `A-Z a-z 0-9 . _ -`, > 8 segments).
 */
export function parsePreviewName(name: string): { feed: Feed; path: string } | null {
  const parts = name.split('/');
  const feed = parts.shift();
  if ((feed !== 'f1' && feed !== 'f2') || parts.length === 0 || parts.length > MAX_SEGMENTS) return null;
  if (!parts.every((p) => SEGMENT.test(p))) return null; // a segment starts with a letter or digit: no . or ..
  return { feed, path: parts.join('/') };
}

/** Resolves `feed/path` or throws the PreviewError a client should see (unknown → 404, offline → 503). */
export function requireOnline(sources: PreviewSources, feed: Feed, path: string): PreviewSource {
  const source = sources.resolve(feed, path);
  if (!source) throw new PreviewError('unknown', `this node serves no stream ${feed}/${path}`);
  if (!source.online) throw new PreviewError('offline', `stream ${feed}/${path} is offline (no publisher)`);
  return source;
}
