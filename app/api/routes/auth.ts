/** Routes under /api/v1/auth: login, refresh, logout, password change. */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TokenPair } from '../../defs/api.js';
import type { AuthService } from '../auth/auth-service.js';
import { requireAdmin, SESSION_COOKIE } from '../auth-hook.js';
import { ApiError } from '../errors.js';
import { errorSchema, tokenPairSchema } from '../schemas.js';

/** What the auth routes need. */
export interface AuthRouteDeps {
  auth: AuthService;
  loginPerMinute: () => number;
  audit(action: string, ip: string, target?: string): void;
}

function setSession(reply: FastifyReply, pair: TokenPair): void {
  const maxAge = Math.max(0, Math.floor((Date.parse(pair.accessExpiresAt) - Date.now()) / 1000));
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=${pair.accessToken}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`,
  );
}

const REFRESH_MESSAGES = {
  invalid: 'the refresh token is not valid',
  expired: 'the refresh token has expired; log in again',
  reused: 'the refresh token was already used; every session of this login is revoked',
  revoked: 'the refresh token was revoked',
} as const;

/** Registers the auth routes. */
export function authRoutes(deps: AuthRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/login',
      {
        config: { rateLimit: { max: () => deps.loginPerMinute(), timeWindow: 60_000 } },
        schema: {
          tags: ['auth'],
          summary: 'Log in as admin; returns an access token (JWT) and a refresh token, and sets a session cookie',
          body: z.object({ password: z.string().min(1).max(1024), username: z.string().max(64).optional() }),
          response: { 200: tokenPairSchema, 401: errorSchema, 429: errorSchema },
        },
      },
      async (req, reply) => {
        const pair = await deps.auth.login(req.body.password);
        deps.audit(pair ? 'login' : 'login-failed', req.ip);
        if (!pair) throw new ApiError(401, 'invalid_credentials', 'wrong password');
        setSession(reply, pair);
        return pair;
      },
    );

    app.post(
      '/refresh',
      {
        config: { rateLimit: { max: () => deps.loginPerMinute() * 6, timeWindow: 60_000 } },
        schema: {
          tags: ['auth'],
          summary: 'Exchange a refresh token for a new pair (the old refresh token stops working)',
          body: z.object({ refreshToken: z.string().min(1).max(512) }),
          response: { 200: tokenPairSchema, 401: errorSchema },
        },
      },
      async (req, reply) => {
        const result = await deps.auth.refresh(req.body.refreshToken);
        if (typeof result === 'string') {
          if (result === 'reused') deps.audit('refresh-reused', req.ip);
          throw new ApiError(401, `refresh_${result}`, REFRESH_MESSAGES[result], 'refreshToken');
        }
        setSession(reply, result);
        return result;
      },
    );

    app.post(
      '/logout',
      {
        schema: {
          tags: ['auth'],
          summary: 'Revoke this login (refresh family and its access tokens) and clear the session cookie',
          body: z.object({ refreshToken: z.string().max(512).optional() }).nullish(),
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        const family = req.principal?.kind === 'admin' ? req.principal.family : undefined;
        deps.auth.logout(req.body?.refreshToken, family);
        deps.audit('logout', req.ip);
        reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/password',
      {
        schema: {
          tags: ['auth'],
          summary: 'Change the admin password; every session is revoked',
          body: z.object({ currentPassword: z.string().min(1).max(1024), newPassword: z.string().min(8).max(1024) }),
          response: { 204: z.null(), 401: errorSchema, 403: errorSchema },
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        if (!(await deps.auth.login(req.body.currentPassword))) {
          throw new ApiError(401, 'invalid_credentials', 'wrong current password', 'currentPassword');
        }
        await deps.auth.changePassword(req.body.newPassword);
        deps.audit('password-changed', req.ip);
        return reply.code(204).send(null);
      },
    );
  };
}
