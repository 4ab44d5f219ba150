/**
 * Who may read or publish on F1 and F2: API tokens as RTSP passwords, and the users of `rtsp.users`; while a camera
 * is leased, its F2 admits only the lease's token as publisher.
 */
import { createHash } from 'node:crypto';
import type { AuthorizeRequest, AuthResult } from '../rtsp/types.js';
import type { AccessTables, LeaseEntry } from './protocol.js';

/** Which RTSP server is asking. */
export type Plane = 'f1' | 'f2';

/** Leased F2 paths, by path. */
export type LeaseMap = ReadonlyMap<string, LeaseEntry>;

/** A verdict with what the worker reports about it. */
export interface RtspVerdict {
  result: AuthResult;
  /** The API token the credentials matched, if any (its id: not a secret, it is the Digest user name). */
  tokenId?: string;
  /** Set when the publish was refused because this lease, held by another token, covers the path. */
  lease?: LeaseEntry;
}

const NO_LEASES: LeaseMap = new Map();

function pathAllowed(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('/*') && path.startsWith(p.slice(0, -1))));
}

/**
 * The verdict for one RTSP request. F1 is fed only from inside the worker (the RTMP bridge), so nobody publishes
 * there; tokens read both planes and publish F2 (compressors); users get exactly the paths they are given. A lease on
 * an F2 path narrows publishing to the token that claimed it: other tokens and every `rtsp.users` entry get 403
 * (credentials that would not have had the right anyway keep their own answer). Without a lease nothing changes.
 */
export function decideRtsp(
  tables: AccessTables,
  plane: Plane,
  req: AuthorizeRequest,
  leases: LeaseMap = NO_LEASES,
): RtspVerdict {
  if (!req.user) return { result: 'unauthorized' };
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
  const tokenId = token ? { tokenId: token.id } : {};
  if (!rights) return { result: 'unauthorized' };
  if (!rights[req.action]) return { result: 'forbidden', ...tokenId };
  const lease = req.action === 'publish' ? leases.get(req.path) : undefined;
  if (lease && lease.tokenId !== token?.id) return { result: 'forbidden', ...tokenId, lease };
  return { result: 'ok', ...tokenId };
}

/** decideRtsp's answer alone. */
export function authorizeRtsp(
  tables: AccessTables,
  plane: Plane,
  req: AuthorizeRequest,
  leases?: LeaseMap,
): AuthResult {
  return decideRtsp(tables, plane, req, leases).result;
}
