/**
 * GET /api/v1/peers: a master's view of the slaves and compressors it watches (`peers`, health checks) and a
 * compressor's links to the slaves it compresses (`links`, event streams); each is [] on a node without that role.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PeerHealth, SlavePeerState } from '../../defs/peer.js';

/** What the route reads: the master's monitor and the compressor's links, either absent on other roles. */
export interface PeerRouteDeps {
  monitor: { list(): PeerHealth[] } | null;
  links: { peers(): SlavePeerState[] } | null;
}

/** Registers the route. */
export function peerRoutes(d: PeerRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/peers',
      {
        schema: {
          tags: ['node'],
          summary: "Health of the peers a master watches (peers) and a compressor's links to its slaves (links)",
        },
      },
      async () => ({ peers: d.monitor?.list() ?? [], links: d.links?.peers() ?? [] }),
    );
  };
}
