/** Routes under /api/v1/tokens: long-lived API tokens for peers and scripts. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventBus } from '../../events/bus.js';
import type { Store } from '../../store/store.js';
import type { AuthService } from '../auth/auth-service.js';
import { requireAdmin } from '../auth-hook.js';
import { ApiError } from '../errors.js';
import { apiTokenSchema, errorSchema } from '../schemas.js';

/** What the token routes need. */
export interface TokenRouteDeps {
  auth: AuthService;
  store: Store;
  bus: EventBus;
}

/** Registers the token routes. */
export function tokenRoutes({ auth, store, bus }: TokenRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/',
      {
        schema: {
          tags: ['tokens'],
          summary: 'List API tokens (never their secrets)',
          response: { 200: z.object({ tokens: z.array(apiTokenSchema) }) },
        },
      },
      async (req) => {
        requireAdmin(req);
        return { tokens: store.apiTokens.list() };
      },
    );

    app.post(
      '/',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Create an API token; its secret is in this response only',
          body: z.object({ name: z.string().trim().min(1).max(64) }),
          response: { 201: z.object({ token: apiTokenSchema, secret: z.string() }), 403: errorSchema },
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const created = store.transaction(() => {
          const c = auth.createApiToken(req.body.name);
          store.audit.add({ actor: 'admin', action: 'token-created', target: c.token.id, ip: req.ip });
          return c;
        });
        bus.emit('auth.token-created', { id: created.token.id, name: created.token.name });
        return reply.code(201).send(created);
      },
    );

    app.delete(
      '/:id',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Revoke an API token',
          params: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'expected a token id') }),
          response: { 204: z.null(), 404: errorSchema, 403: errorSchema },
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const revoked = store.transaction(() => {
          const ok = store.apiTokens.revoke(req.params.id);
          if (ok) store.audit.add({ actor: 'admin', action: 'token-revoked', target: req.params.id, ip: req.ip });
          return ok;
        });
        if (!revoked) throw new ApiError(404, 'not_found', `no active token ${req.params.id}`, 'id');
        bus.emit('auth.token-revoked', { id: req.params.id });
        return reply.code(204).send(null);
      },
    );
  };
}
