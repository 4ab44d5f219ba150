/**
 * /api/v1/leases: compressors claim the cameras they transcode (see app/cameras/leases.ts). Any token may claim, renew
 * and release (a compressor holds a plain API token); the holder name is the compressor's word, not a credential.
 */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LeaseOutcome } from '../../cameras/leases.js';
import type { CameraLease } from '../../defs/camera.js';
import { ApiError, sendError } from '../errors.js';
import { errorSchema } from '../schemas.js';

/** The lease operations the routes need. */
export interface LeaseBook {
  claim(cameraId: string, holder: string, ttlS: number): LeaseOutcome;
  release(cameraId: string, holder: string): LeaseOutcome;
  list(): CameraLease[];
}

/**
 * Headers of a 409 naming the current lease, so that a compressor can read them without parsing the message (the
 * error body keeps the API's one shape). The holder is percent-encoded: header values are ASCII.
 */
export const LEASE_HOLDER_HEADER = 'x-lease-holder';
export const LEASE_EXPIRES_HEADER = 'x-lease-expires-at';

const holder = z
  .string()
  .min(1)
  .max(128)
  // Holders show up in the UI, the log and a header: no control characters.
  .regex(/^[^\p{Cc}]+$/u, 'expected 1-128 characters without control characters');
const params = z.object({ cameraId: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a camera id') });
const leaseSchema = z.object({ cameraId: z.string(), holder: z.string(), expiresAt: z.string(), ttlS: z.number() });

function refuse(reply: FastifyReply, cameraId: string, outcome: Exclude<LeaseOutcome, { ok: true }>) {
  if (outcome.reason === 'unknown-camera') throw new ApiError(404, 'not_found', `no camera ${cameraId}`);
  const { lease } = outcome;
  reply.header(LEASE_HOLDER_HEADER, encodeURIComponent(lease.holder));
  reply.header(LEASE_EXPIRES_HEADER, lease.expiresAt);
  const message = `camera ${cameraId} is leased by ${JSON.stringify(lease.holder)} until ${lease.expiresAt}`;
  return sendError(reply, 409, 'lease_held', message, 'holder');
}

/** Registers the lease routes. */
export function leaseRoutes(deps: { leases: LeaseBook }): FastifyPluginAsyncZod {
  const { leases } = deps;
  return async (app) => {
    app.get(
      '/',
      {
        schema: {
          tags: ['leases'],
          summary: 'Running camera leases',
          response: { 200: z.object({ leases: z.array(leaseSchema) }) },
        },
      },
      async () => ({ leases: leases.list() }),
    );
    app.put(
      '/:cameraId',
      {
        schema: {
          tags: ['leases'],
          summary: 'Claim or renew the lease of a camera',
          params,
          body: z.object({ holder, ttlS: z.int().min(2).max(120) }),
          response: { 200: z.object({ lease: leaseSchema }), 404: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => {
        const { cameraId } = req.params;
        const outcome = leases.claim(cameraId, req.body.holder, req.body.ttlS);
        if (!outcome.ok) return refuse(reply, cameraId, outcome);
        return { lease: outcome.lease! };
      },
    );
    app.delete(
      '/:cameraId',
      {
        schema: {
          tags: ['leases'],
          summary: 'Release the lease of a camera (only its holder may)',
          params,
          querystring: z.object({ holder }),
          response: { 204: z.null(), 404: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => {
        const { cameraId } = req.params;
        const outcome = leases.release(cameraId, req.query.holder);
        if (!outcome.ok) return refuse(reply, cameraId, outcome);
        return reply.code(204).send(null);
      },
    );
  };
}
