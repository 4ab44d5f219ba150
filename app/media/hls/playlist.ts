/** What the HLS routes do to a muxer's playlist before serving it: a hold-back hint and the signed query on each URI. */

/** Options of rewritePlaylist. */
export interface RewriteOptions {
  /** Appended to every URI (`t=<token>`) when the playlist itself was fetched with a signed query token. */
  query: string | null;
  /**
   * Seconds behind the live edge the player should hold (`EXT-X-SERVER-CONTROL:HOLD-BACK`); hls.js uses it as its
   * target latency unless its own config says otherwise. null = leave the player's default (3 target durations).
   */
  holdBackS: number | null;
}

/**
 * The playlist as served: URIs of segments and of the init sections (`EXT-X-MAP`) carry `query`, so that a player
 * without headers or cookies (hls.js with a signed link) can fetch them; a HOLD-BACK is added after the target
 * duration. Everything else is the muxer's text unchanged.
 */
export function rewritePlaylist(playlist: string, o: RewriteOptions): string {
  const withQuery = (uri: string) => (o.query ? `${uri}${uri.includes('?') ? '&' : '?'}${o.query}` : uri);
  const out: string[] = [];
  for (const line of playlist.split('\n')) {
    if (line.startsWith('#EXT-X-MAP:')) {
      out.push(line.replace(/URI="([^"]*)"/, (_m, uri: string) => `URI="${withQuery(uri)}"`));
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      out.push(line);
      if (o.holdBackS !== null && !playlist.includes('#EXT-X-SERVER-CONTROL:'))
        out.push(`#EXT-X-SERVER-CONTROL:HOLD-BACK=${o.holdBackS.toFixed(3)}`);
    } else if (line.length > 0 && !line.startsWith('#')) {
      out.push(withQuery(line.trim()));
    } else {
      out.push(line);
    }
  }
  return out.join('\n');
}
