/** GET /api/v1/streams: every stream this node serves (F1 and F2 on a slave), as the media plane last reported it. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PlaneStream } from '../../media/worker/protocol.js';

/** Registers the streams route. */
export function streamRoutes(deps: { streams: () => PlaneStream[] }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/streams',
      { schema: { tags: ['streams'], summary: 'Streams served by this node, with statistics' } },
      async () => ({
        streams: deps.streams(),
      }),
    );
  };
}
