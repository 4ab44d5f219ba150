/**
 * GET /api/v1/streams: every stream this node serves (F1 and F2 on a slave) as the media plane last reported it,
 * the totals of its ports (refused publishers and readers, dropped readers, protocol errors, timeouts), and the
 * pullers of rtsp-pull cameras whether online or not (a camera with a wrong password is only visible there).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { MediaCounters, PlaneStream, PullStatus } from '../../media/worker/protocol.js';
import type { MasterRelay } from '../../roles/master.js';

/** Registers the streams route, and on a master the relays route. */
export function streamRoutes(deps: {
  streams: () => PlaneStream[];
  mediaCounters: () => MediaCounters | null;
  mediaPulls: () => PullStatus[];
  /** The master's relays; null when this node is no master. */
  relays: (() => MasterRelay[]) | null;
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
    const relays = deps.relays;
    if (relays) {
      app.get(
        '/relays',
        { schema: { tags: ['streams'], summary: "The master's relays of its slaves' F1 and F2, with their state" } },
        async () => ({ relays: relays() }),
      );
    }
  };
}
