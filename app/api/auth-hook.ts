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

/** True for paths that need no token: liveness, login/refresh, and the UI's static files (the login page). */
export function isPublic(method: string, path: string): boolean {
  if (PUBLIC_API.has(path)) return true;
  const isApi = path.startsWith('/api/') || path === '/api' || path === '/metrics' || path === '/ready';
  return !isApi && (method === 'GET' || method === 'HEAD');
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

/** Registers the hook on the root instance. */
export function installAuth(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    const credential = credentialOf(req);
    req.principal = credential ? await auth.authenticate(credential) : null;
    if (isPublic(req.method, path)) return;
    if (!credential) throw new ApiError(401, 'unauthorized', 'a bearer token or session is required');
    if (!req.principal) throw new ApiError(401, 'invalid_token', 'the token is invalid, expired or revoked');
  });
}

/** Throws 403 unless the request is the admin (API tokens cannot manage tokens or change the password). */
export function requireAdmin(req: FastifyRequest): void {
  if (req.principal?.kind !== 'admin') throw new ApiError(403, 'forbidden', 'this action needs an admin session');
}
