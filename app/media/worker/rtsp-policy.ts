/** Who may read or publish on F1 and F2: API tokens as RTSP passwords, and the users of `rtsp.users`. */
import { createHash } from 'node:crypto';
import type { AuthorizeRequest, AuthResult } from '../rtsp/types.js';
import type { AccessTables } from './protocol.js';

/** Which RTSP server is asking. */
export type Plane = 'f1' | 'f2';

function pathAllowed(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('/*') && path.startsWith(p.slice(0, -1))));
}

/**
 * The verdict for one RTSP request. F1 is fed only from inside the worker (the RTMP bridge), so nobody publishes
 * there; tokens read both planes and publish F2 (compressors); users get exactly the paths they are given.
 */
export function authorizeRtsp(tables: AccessTables, plane: Plane, req: AuthorizeRequest): AuthResult {
  if (!req.user) return 'unauthorized';
  let rights: { read: boolean; publish: boolean } | null = null;
  const basicHash = req.password !== undefined ? createHash('sha256').update(req.password).digest('base64url') : null;
  const token = tables.tokens.find((t) =>
    req.scheme === 'basic' ? t.hash === basicHash : t.id === req.user && t.ha1 !== null && req.checkHa1(t.ha1),
  );
  if (token) rights = { read: true, publish: plane === 'f2' };
  else {
    const user = tables.users.find((u) => u.user === req.user && req.checkPassword(u.password));
    if (user) {
      rights = {
        read: pathAllowed(user.read, req.path),
        publish: plane === 'f2' && pathAllowed(user.publish, req.path),
      };
    }
  }
  if (!rights) return 'unauthorized';
  return rights[req.action] ? 'ok' : 'forbidden';
}
