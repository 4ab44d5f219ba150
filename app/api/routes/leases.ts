/**
 * /api/v1/leases: compressors claim the cameras they transcode (see app/cameras/leases.ts). Any API token may claim,
 * renew and release (a compressor holds a plain API token); the lease is bound to that token, which is then the only
 * credential the slave's F2 admits as the camera's publisher. The holder name is the compressor's word, shown to
 * people; the token is what counts. A granted claim also answers with the lease's own RTSP credential (`rtsp`), which
 * the compressor's ffmpeg uses instead of the API token; it is in no other answer (not in the list, not in a 409) and
 * never logged. An admin session lists leases but cannot claim or release one: it has no RTSP
 * credential a lease could admit, and a lease nobody can publish under would only stall the camera.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ClaimOutcome, LeaseClaimant, LeaseOutcome, LeaseRefusal } from '../../cameras/leases.js';
import type { CameraLease } from '../../defs/camera.js';
import { ApiError, sendError } from '../errors.js';
import { errorSchema } from '../schemas.js';

/** The lease operations the routes need. */
export interface LeaseBook {
  claim(cameraId: string, who: LeaseClaimant, ttlS: number): ClaimOutcome;
  release(cameraId: string, who: LeaseClaimant): LeaseOutcome;
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
const rtspSchema = z
  .object({ user: z.string(), password: z.string() })
  .describe("the lease's RTSP credential: reads this camera's F1 and publishes its F2 while the lease runs");

/** The claimant of a request: its holder name and the API token it came with; 403 for anything but an API token. */
function claimant(req: FastifyRequest, holder: string): LeaseClaimant {
  const p = req.principal;
  if (p?.kind !== 'api-token') {
    throw new ApiError(403, 'forbidden', 'leases are claimed with the API token that publishes F2, not a session');
  }
  return { holder, tokenId: p.tokenId };
}

function refuse(reply: FastifyReply, cameraId: string, who: LeaseClaimant, outcome: LeaseRefusal) {
  if (outcome.reason === 'unknown-camera') throw new ApiError(404, 'not_found', `no camera ${cameraId}`);
  const { lease } = outcome;
  reply.header(LEASE_HOLDER_HEADER, encodeURIComponent(lease.holder));
  reply.header(LEASE_EXPIRES_HEADER, lease.expiresAt);
  // The same name with another token: say so, or the compressor reads "leased by <its own name>" and wonders.
  const by =
    lease.holder === who.holder
      ? `${JSON.stringify(lease.holder)} with another API token`
      : JSON.stringify(lease.holder);
  const message = `camera ${cameraId} is leased by ${by} until ${lease.expiresAt}`;
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
          summary: 'Claim or renew the lease of a camera (bound to the API token of the request)',
          params,
          body: z.object({ holder, ttlS: z.int().min(2).max(120) }),
          response: {
            200: z.object({ lease: leaseSchema, rtsp: rtspSchema }),
            403: errorSchema,
            404: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (req, reply) => {
        const { cameraId } = req.params;
        const who = claimant(req, req.body.holder);
        const outcome = leases.claim(cameraId, who, req.body.ttlS);
        if (!outcome.ok) return refuse(reply, cameraId, who, outcome);
        return { lease: outcome.lease, rtsp: outcome.rtsp };
      },
    );
    app.delete(
      '/:cameraId',
      {
        schema: {
          tags: ['leases'],
          summary: 'Release the lease of a camera (only its holder, with the token that claimed it, may)',
          params,
          querystring: z.object({ holder }),
          response: { 204: z.null(), 403: errorSchema, 404: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => {
        const { cameraId } = req.params;
        const who = claimant(req, req.query.holder);
        const outcome = leases.release(cameraId, who);
        if (!outcome.ok) return refuse(reply, cameraId, who, outcome);
        return reply.code(204).send(null);
      },
    );
  };
}
