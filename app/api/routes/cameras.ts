/** /api/v1/cameras: the camera registry. Reading needs any token (peers list cameras); changes need the admin. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CameraError, type CameraRegistry } from '../../cameras/registry.js';
import { requireAdmin } from '../auth-hook.js';
import { ApiError } from '../errors.js';
import { errorSchema } from '../schemas.js';

/** What the camera routes need. */
export interface CameraRouteDeps {
  cameras: CameraRegistry;
  rtmpPort: () => number;
}

const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const slug = (what: string) => z.string().regex(SLUG, `expected a ${what}: 1-64 of a-z, 0-9, "-", "_"`);
const rtspUrl = z
  .string()
  .max(2048)
  .refine((s) => URL.canParse(s) && /^rtsps?:$/.test(new URL(s).protocol) && new URL(s).hostname !== '', {
    message: 'expected an rtsp:// or rtsps:// URL with a host',
  });
const source = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('rtmp-push') }),
  z.object({
    kind: z.literal('rtsp-pull'),
    url: rtspUrl,
    user: z.string().max(256).optional(),
    password: z.string().max(256).optional(),
  }),
]);
const cameraSchema = z.object({
  id: z.string(),
  name: z.string(),
  site: z.string(),
  enabled: z.boolean(),
  source: z.union([
    z.object({ kind: z.literal('rtmp-push'), keyRotatedAt: z.string() }),
    z.object({ kind: z.literal('rtsp-pull'), url: z.string(), user: z.string().nullable(), hasPassword: z.boolean() }),
  ]),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const grantSchema = z.object({ publishKey: z.string(), publishUrl: z.string() });
const idParams = z.object({ id: slug('camera id') });

function translate(err: unknown): never {
  if (err instanceof CameraError) {
    const status = err.code === 'exists' ? 409 : err.code === 'not_found' ? 404 : 400;
    throw new ApiError(status, err.code === 'invalid' ? 'invalid_request' : err.code, err.message, err.field);
  }
  throw err;
}

/** Registers the camera routes. */
export function cameraRoutes({ cameras, rtmpPort }: CameraRouteDeps): FastifyPluginAsyncZod {
  const grant = (host: string, id: string, key: string) => ({
    publishKey: key,
    // The host the operator reached the API on is the best guess of the address cameras can reach too.
    publishUrl: `rtmp://${host}:${rtmpPort()}/live/${id}?key=${key}`,
  });
  return async (app) => {
    app.get(
      '/',
      {
        schema: {
          tags: ['cameras'],
          summary: 'List cameras',
          response: { 200: z.object({ cameras: z.array(cameraSchema) }) },
        },
      },
      async () => ({ cameras: cameras.list() }),
    );
    app.get(
      '/:id',
      {
        schema: {
          tags: ['cameras'],
          summary: 'One camera',
          params: idParams,
          response: { 200: cameraSchema, 404: errorSchema },
        },
      },
      async (req) => {
        try {
          return cameras.get(req.params.id);
        } catch (err) {
          translate(err);
        }
      },
    );
    app.post(
      '/',
      {
        schema: {
          tags: ['cameras'],
          summary: 'Add a camera; a push camera gets a publish key, shown in this response only',
          body: z.object({
            id: slug('camera id'),
            name: z.string().trim().min(1).max(128),
            site: slug('site').optional(),
            enabled: z.boolean().default(true),
            source,
          }),
          response: {
            201: z.object({ camera: cameraSchema, grant: grantSchema.nullable() }),
            409: errorSchema,
            403: errorSchema,
          },
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const body = { ...req.body, site: req.body.site ?? 'default' };
        try {
          const { camera, publishKey } = cameras.create(body, 'admin', req.ip);
          return reply
            .code(201)
            .send({ camera, grant: publishKey ? grant(req.hostname, camera.id, publishKey) : null });
        } catch (err) {
          translate(err);
        }
      },
    );
    app.patch(
      '/:id',
      {
        schema: {
          tags: ['cameras'],
          summary: 'Change a camera',
          params: idParams,
          body: z.object({
            name: z.string().trim().min(1).max(128).optional(),
            site: slug('site').optional(),
            enabled: z.boolean().optional(),
            source: source.optional(),
          }),
          response: { 200: z.object({ camera: cameraSchema, grant: grantSchema.nullable() }), 404: errorSchema },
        },
      },
      async (req) => {
        requireAdmin(req);
        try {
          const { camera, publishKey } = cameras.update(req.params.id, req.body, 'admin', req.ip);
          return { camera, grant: publishKey ? grant(req.hostname, camera.id, publishKey) : null };
        } catch (err) {
          translate(err);
        }
      },
    );
    app.post(
      '/:id/rotate-key',
      {
        schema: {
          tags: ['cameras'],
          summary: 'Issue a new publish key; the old one stops working at once',
          params: idParams,
          response: { 200: grantSchema, 400: errorSchema, 404: errorSchema },
        },
      },
      async (req) => {
        requireAdmin(req);
        try {
          return grant(req.hostname, req.params.id, cameras.rotateKey(req.params.id, 'admin', req.ip));
        } catch (err) {
          translate(err);
        }
      },
    );
    app.delete(
      '/:id',
      {
        schema: {
          tags: ['cameras'],
          summary: 'Remove a camera',
          params: idParams,
          response: { 204: z.null(), 404: errorSchema },
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        try {
          cameras.delete(req.params.id, 'admin', req.ip);
        } catch (err) {
          translate(err);
        }
        return reply.code(204).send(null);
      },
    );
  };
}
