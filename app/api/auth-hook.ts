/** The authentication hook: every request needs a bearer token or session cookie except a few public paths. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthService, Principal } from './auth/auth-service.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Name of the session cookie set by login (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'cupola_access';

const PUBLIC_API = new Set(['/health', '/api/v1/auth/login', '/api/v1/auth/refresh']);

/** Preview media (`/hls/…`, `/mjpeg/…`, `/snapshot/…`): never public, although they are not under /api. */
const PREVIEW_PATH = /^\/(hls|mjpeg|snapshot)(\/|$)/;

/** True for paths that need no token: liveness, login/refresh, and the UI's static files (the login page). */
export function isPublic(method: string, path: string): boolean {
  if (PUBLIC_API.has(path)) return true;
  const isApi = path.startsWith('/api/') || path === '/api' || path === '/metrics' || path === '/ready';
  return !isApi && !PREVIEW_PATH.test(path) && (method === 'GET' || method === 'HEAD');
}

/**
 * Checks a signed preview token (`?t=`) for the URL path it came with; null when the path takes no such token.
 * See app/api/auth/preview-token.ts.
 */
export type QueryTokenCheck = (path: string, token: string) => 'ok' | 'invalid' | 'expired' | 'wrong-scope' | null;

function queryToken(url: string): string | null {
  const q = url.indexOf('?');
  return q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('t');
}

/** Reads `Authorization: Bearer x` or the session cookie. */
export function credentialOf(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return m ? m[1]! : null;
  }
  const cookie = req.headers.cookie;
  if (!cookie) return null;
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return v.join('=');
      }
    }
  }
  return null;
}

/** Registers the hook on the root instance; `previewToken` lets a signed `?t=` stand in for a credential. */
export function installAuth(app: FastifyInstance, auth: AuthService, previewToken?: QueryTokenCheck): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    const credential = credentialOf(req);
    req.principal = credential ? await auth.authenticate(credential) : null;
    if (isPublic(req.method, path)) return;
    const t = previewToken && !req.principal ? queryToken(req.url) : null;
    const verdict = t ? previewToken!(path, t) : null;
    if (verdict === 'ok') return;
    if (verdict === 'wrong-scope') throw new ApiError(403, 'forbidden', 'this preview link is for another stream');
    if (verdict === 'expired') throw new ApiError(401, 'token_expired', 'the preview link has expired');
    if (verdict === 'invalid') throw new ApiError(401, 'invalid_token', 'the preview link is invalid');
    if (!credential) throw new ApiError(401, 'unauthorized', 'a bearer token or session is required');
    if (!req.principal) throw new ApiError(401, 'invalid_token', 'the token is invalid, expired or revoked');
  });
}

/** Throws 403 unless the request is the admin (API tokens cannot manage tokens or change the password). */
export function requireAdmin(req: FastifyRequest): void {
  if (req.principal?.kind !== 'admin') throw new ApiError(403, 'forbidden', 'this action needs an admin session');
}
