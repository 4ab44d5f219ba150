/** RTSP method handlers without transport state: OPTIONS, DESCRIBE, ANNOUNCE, TEARDOWN, GET/SET_PARAMETER. */
import { authenticate } from './auth.js';
import type { HandlerResult, RtspConnection } from './connection.js';
import { isValidPathName } from './path-registry.js';
import type { RtspRequest } from './request-parser.js';
import type { RtspResponse } from './response.js';
import { parseSdp, readerSdp } from './sdp.js';
import { handlePause, handlePlay, handleRecord, handleSetup } from './setup-handlers.js';
import type { RtspAction } from './types.js';

/** The methods this server implements, for `Public`. */
export const PUBLIC_METHODS =
  'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

/** A request URL split into what the handlers use. */
export interface RequestTarget {
  /** `rtsp://host:port`, as the client wrote it (readers match control URLs against it). */
  origin: string;
  /** URL path without leading/trailing slashes and without the query. */
  pathname: string;
}

/** Parses the request URL; null when it is not an rtsp:// URL. */
export function requestTarget(uri: string): RequestTarget | null {
  if (uri.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') return null;
  return { origin: `${url.protocol}//${url.host}`, pathname: url.pathname.replace(/^\/+|\/+$/g, '') };
}

/** Answers one request. Throws only on bugs (the connection answers 500). */
export async function handleRequest(conn: RtspConnection, req: RtspRequest): Promise<HandlerResult> {
  const sessionHeader = req.headers.get('session')?.split(';')[0]?.trim();
  const session = conn.session;
  if (sessionHeader !== undefined && session?.id === sessionHeader) session.touch();
  if (!req.headers.has('cseq')) return reply({ status: 400 });
  const needsSession = ['PLAY', 'PAUSE', 'RECORD', 'TEARDOWN'].includes(req.method);
  if (sessionHeader !== undefined && session?.id !== sessionHeader && req.method !== 'OPTIONS') {
    return reply({ status: 454 });
  }
  if (needsSession && !session) return reply({ status: 454 });
  switch (req.method) {
    case 'OPTIONS':
      return reply({ status: 200, headers: { Public: PUBLIC_METHODS } });
    case 'GET_PARAMETER':
    case 'SET_PARAMETER':
      // Keepalives; there are no parameters to get or set.
      return reply(withSession(conn, { status: 200 }));
    case 'DESCRIBE':
      return describe(conn, req);
    case 'ANNOUNCE':
      return announce(conn, req);
    case 'SETUP':
      return handleSetup(conn, req);
    case 'PLAY':
      return handlePlay(conn, req);
    case 'PAUSE':
      return handlePause(conn);
    case 'RECORD':
      return handleRecord(conn);
    case 'TEARDOWN': {
      const response = withSession(conn, { status: 200 });
      conn.endSession('teardown');
      conn.announced = undefined;
      return reply(response);
    }
    default:
      return reply({ status: 501, headers: { Public: PUBLIC_METHODS } });
  }
}

async function describe(conn: RtspConnection, req: RtspRequest): Promise<HandlerResult> {
  const target = requestTarget(req.uri);
  if (!target || !isValidPathName(target.pathname)) return reply({ status: 400 });
  const denied = await checkAccess(conn, req, target.pathname, 'read');
  if (denied) return reply(denied);
  const path = conn.ctx.registry.get(target.pathname);
  if (!path) return reply({ status: 404 });
  return reply({
    status: 200,
    headers: { 'Content-Type': 'application/sdp', 'Content-Base': `${target.origin}/${target.pathname}/` },
    body: readerSdp(path.sdp),
  });
}

async function announce(conn: RtspConnection, req: RtspRequest): Promise<HandlerResult> {
  const target = requestTarget(req.uri);
  if (!target || !isValidPathName(target.pathname)) return reply({ status: 400 });
  const type = req.headers.get('content-type');
  if (type !== undefined && !type.toLowerCase().startsWith('application/sdp')) return reply({ status: 415 });
  const denied = await checkAccess(conn, req, target.pathname, 'publish');
  if (denied) return reply(denied);
  if (conn.session) return reply({ status: 455 });
  const sdp = parseSdp(req.body.toString('utf8'));
  if ('error' in sdp) {
    conn.ctx.log.debug({ remote: conn.remote, error: sdp.error }, 'ANNOUNCE with an unusable SDP');
    return reply({ status: 400 });
  }
  conn.announced = { path: target.pathname, sdp };
  return reply({ status: 200 });
}

/**
 * Authorization of `action` on `path` for this connection; null when allowed, else the 401/403 to send. Once
 * allowed, the pair is remembered for the connection's life.
 */
export async function checkAccess(
  conn: RtspConnection,
  req: RtspRequest,
  path: string,
  action: RtspAction,
): Promise<RtspResponse | null> {
  const key = `${action} ${path}`;
  if (conn.authorized.has(key)) return null;
  const { ctx } = conn;
  const target = { path, action, remote: conn.remote };
  const outcome = await authenticate(ctx.authorize, ctx.nonces, ctx.limits.authorizeTimeoutMs, req, target);
  if (outcome.kind === 'ok') {
    // Bounded: a client walking thousands of paths on one connection must not grow it forever.
    if (conn.authorized.size >= 64) conn.authorized.clear();
    conn.authorized.add(key);
    return null;
  }
  if (outcome.kind === 'forbidden') {
    ctx.authFailed({ ...target, user: outcome.user, reason: 'forbidden' });
    return { status: 403 };
  }
  if (outcome.failed) ctx.authFailed({ ...target, user: outcome.user, reason: 'unauthorized' });
  return outcome.response;
}

/** Adds the Session header when the connection has a session. */
export function withSession(conn: RtspConnection, response: RtspResponse): RtspResponse {
  if (!conn.session) return response;
  const headers = { ...response.headers, Session: conn.session.header(conn.ctx.limits.sessionTimeoutMs) };
  return { ...response, headers };
}

/** A result without after-send work. */
export function reply(response: RtspResponse): HandlerResult {
  return { response };
}
