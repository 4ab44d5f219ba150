/** Liveness, readiness, node identity and supervised children. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ChildStatus } from '../../defs/child.js';
import type { NodeInfo } from '../../defs/node.js';

/** What these routes need from the core. */
export interface NodeRouteDeps {
  nodeInfo(): NodeInfo;
  /** Component name → ready; the node is ready when all are. */
  readiness(): Record<string, boolean>;
  children(): ChildStatus[];
}

/** /health and /ready (root level). */
export function healthRoutes(deps: NodeRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          tags: ['node'],
          summary: 'Liveness (no auth)',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/ready',
      {
        schema: {
          tags: ['node'],
          summary: 'Readiness: every component started',
          response: {
            200: z.object({ ready: z.boolean(), components: z.record(z.string(), z.boolean()) }),
            503: z.object({ ready: z.boolean(), components: z.record(z.string(), z.boolean()) }),
          },
        },
      },
      async (_req, reply) => {
        const components = deps.readiness();
        const ready = Object.values(components).every(Boolean);
        return reply.code(ready ? 200 : 503).send({ ready, components });
      },
    );
  };
}

/** /api/v1/node and /api/v1/children. */
export function nodeRoutes(deps: NodeRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/node', { schema: { tags: ['node'], summary: 'Identity and uptime of this node' } }, async () =>
      deps.nodeInfo(),
    );
    app.get('/children', { schema: { tags: ['node'], summary: 'Supervised child processes' } }, async () => ({
      children: deps.children(),
    }));
  };
}
