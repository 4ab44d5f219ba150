/** /api/v1/config: the effective config (secrets redacted), its JSON Schema, and changes at run time. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAdmin } from '../auth-hook.js';
import { errorSchema } from '../schemas.js';

/** The result of a config change. */
export interface ApplyResult {
  changed: string[];
  restarted: string[];
  restartRequired: string[];
}

/** What the config routes need from the core. */
export interface ConfigControl {
  redacted(): Record<string, unknown>;
  pinned(): Record<string, string>;
  schema(): Record<string, unknown>;
  /** Validates, persists and applies; throws ApiError/ConfigError. `after` runs once the reply is sent. */
  apply(patch: Record<string, unknown>): Promise<{ result: ApplyResult; after: () => Promise<void> }>;
}

/** Registers the config routes. */
export function configRoutes(ctl: ConfigControl): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/config', { schema: { tags: ['config'], summary: 'Effective config; secrets redacted' } }, async () => ({
      config: ctl.redacted(),
      pinned: ctl.pinned(),
    }));
    app.get(
      '/config/schema',
      { schema: { tags: ['config'], summary: 'JSON Schema of the config (for the settings page)' } },
      async () => ctl.schema(),
    );
    app.patch(
      '/config',
      {
        schema: {
          tags: ['config'],
          summary: 'Change config fields; only the components whose fields changed are restarted',
          body: z.record(z.string(), z.unknown()),
          response: {
            200: z.object({
              changed: z.array(z.string()),
              restarted: z.array(z.string()),
              restartRequired: z.array(z.string()),
            }),
            400: errorSchema,
            403: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const { result, after } = await ctl.apply(req.body);
        reply.raw.once('finish', () => void after());
        return result;
      },
    );
  };
}
