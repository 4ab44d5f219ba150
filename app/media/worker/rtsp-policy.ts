/**
 * Who may read or publish on F1 and F2: API tokens as RTSP passwords, the users of `rtsp.users`, and the credential
 * of each camera lease (its camera's F1 read and F2 publish only); while a camera is leased, its F2 admits only the
 * lease's token and the lease's credential as publisher.
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
  /** The lease whose RTSP credential matched, if any (its user name is not a secret; the holder is for logs). */
  leaseUser?: string;
}

const NO_LEASES: LeaseMap = new Map();

function pathAllowed(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('/*') && path.startsWith(p.slice(0, -1))));
}

/** The lease whose own credential the request carries: the user name must match, then the password (Basic) or HA1. */
function leaseCredential(leases: LeaseMap, req: AuthorizeRequest, basicHash: string | null): LeaseEntry | undefined {
  for (const l of leases.values()) {
    if (l.rtspUser !== req.user) continue;
    return (req.scheme === 'basic' ? l.rtspHash === basicHash : req.checkHa1(l.rtspHa1)) ? l : undefined;
  }
  return undefined;
}

/**
 * The verdict for one RTSP request. F1 is fed only from inside the worker (the RTMP bridge), so nobody publishes
 * there; tokens read both planes and publish F2 (compressors); a lease's credential reads its camera's F1 and
 * publishes its F2 (403 for anything else); users get exactly the paths they are given. A lease on an F2 path narrows
 * publishing to the token that claimed it and its credential: other tokens and every `rtsp.users` entry get 403
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
  const own = token ? undefined : leaseCredential(leases, req, basicHash);
  if (token) rights = { read: true, publish: plane === 'f2' };
  else if (own) {
    const mine = req.path === own.path;
    rights = { read: mine && plane === 'f1', publish: mine && plane === 'f2' };
  } else {
    const user = tables.users.find((u) => u.user === req.user && req.checkPassword(u.password));
    if (user) {
      rights = {
        read: pathAllowed(user.read, req.path),
        publish: plane === 'f2' && pathAllowed(user.publish, req.path),
      };
    }
  }
  const who = token ? { tokenId: token.id } : own ? { leaseUser: own.rtspUser } : {};
  if (!rights) return { result: 'unauthorized' };
  if (!rights[req.action]) return { result: 'forbidden', ...who };
  const lease = req.action === 'publish' ? leases.get(req.path) : undefined;
  if (lease && lease !== own && lease.tokenId !== token?.id) return { result: 'forbidden', ...who, lease };
  return { result: 'ok', ...who };
}
