/**
 * GET /api/v1/streams: every stream this node serves (F1 and F2 on a slave) as the media plane last reported it,
 * the totals of its ports (refused publishers and readers, dropped readers, protocol errors, timeouts), and the
 * pullers of rtsp-pull cameras whether online or not (a camera with a wrong password is only visible there).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { MediaCounters, PlaneStream, PullStatus } from '../../media/worker/protocol.js';

/** Registers the streams route. */
export function streamRoutes(deps: {
  streams: () => PlaneStream[];
  mediaCounters: () => MediaCounters | null;
  mediaPulls: () => PullStatus[];
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/streams',
      { schema: { tags: ['streams'], summary: 'Streams served by this node, with statistics and port totals' } },
      async () => ({
        streams: deps.streams(),
        counters: deps.mediaCounters(),
        pulls: deps.mediaPulls(),
      }),
    );
  };
}
