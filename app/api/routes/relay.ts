/**
 * /api/v1/relay: the dynamic stream controller's resources (streams, their logs and URL history, the SSE client and
 * the events it received). Reading needs any token; changes need the admin. URLs come back with passwords masked.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type {
  RelayStreamView,
  SseClientStatus,
  SseEventRecord,
  StreamLogRecord,
  UrlHistoryRecord,
} from '../../defs/relay.js';
import { RELAY_PRESETS } from '../../defs/relay.js';
import { RelayError } from '../../relay/context.js';
import type { ControlAction, StreamInput, StreamPatch } from '../../relay/stream-admin.js';
import type { UrlChangeRequest, UrlChangeResult } from '../../relay/url-change.js';
import { requireAdmin } from '../auth-hook.js';
import { ApiError } from '../errors.js';

/** What the relay routes (these and the seed's) need from the relay. */
export interface RelayApi {
  list(): RelayStreamView[];
  get(id: string): RelayStreamView | undefined;
  create(input: StreamInput): Promise<RelayStreamView>;
  update(id: string, patch: StreamPatch): Promise<{ stream: RelayStreamView; change: UrlChangeResult | null }>;
  remove(id: string): Promise<void>;
  control(id: string, action: ControlAction): Promise<RelayStreamView>;
  changeUrls(req: UrlChangeRequest): Promise<UrlChangeResult>;
  defaultStreamId(): string;
  sseStatus(): SseClientStatus;
  logs(streamId: string | null, limit: number): StreamLogRecord[];
  history(streamId: string | null, limit: number): UrlHistoryRecord[];
  events(limit: number): SseEventRecord[];
}

/** A stream id in a path or body. */
export const streamIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a stream id: 1-64 of a-z, 0-9, "-", "_"');
/** `?limit=` of the list routes. */
export const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
const url = z.string().max(4096);
const preset = z.enum(RELAY_PRESETS);
const params = z.object({ id: streamIdSchema });

/** RelayError → the API's error shape (every reason in the message, the first field named). */
export function relayError(err: unknown): never {
  if (err instanceof RelayError) {
    const status = { not_found: 404, exists: 409, invalid: 400, not_configured: 409, unavailable: 503 }[err.code];
    const code = err.code === 'invalid' ? 'invalid_request' : err.code;
    throw new ApiError(status, code, err.message, err.field);
  }
  throw err;
}

/** Registers the routes under the prefix they are given (`/api/v1/relay`). */
export function relayRoutes(relay: RelayApi): FastifyPluginAsyncZod {
  const find = (id: string) => {
    const s = relay.get(id);
    if (!s) throw new ApiError(404, 'not_found', `no relay stream ${id}`);
    return s;
  };
  const tags = ['relay'];
  return async (app) => {
    app.get('/streams', { schema: { tags, summary: 'Relay streams' } }, async () => ({ streams: relay.list() }));
    app.post(
      '/streams',
      {
        schema: {
          tags,
          summary: 'Create a relay stream (RTSP source → RTMP destination); started unless enabled is false',
          body: z.strictObject({
            id: streamIdSchema,
            name: z.string().min(1).max(128).optional(),
            rtspUrl: url,
            rtmpUrl: url,
            preset: preset.optional(),
            ffmpegParams: z.string().max(2000).nullable().optional(),
            autoRestart: z.boolean().optional(),
            enabled: z.boolean().optional(),
          }),
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const stream = await relay.create(req.body).catch(relayError);
        return reply.code(201).send({ stream });
      },
    );
    app.get('/streams/:id', { schema: { tags, summary: 'One relay stream', params } }, async (req) => ({
      stream: find(req.params.id),
    }));
    app.patch(
      '/streams/:id',
      {
        schema: {
          tags,
          summary: 'Change a relay stream; new URLs switch a running job, new encoding restarts it',
          params,
          body: z.strictObject({
            name: z.string().min(1).max(128).optional(),
            rtspUrl: url.optional(),
            rtmpUrl: url.optional(),
            preset: preset.optional(),
            ffmpegParams: z.string().max(2000).nullable().optional(),
            autoRestart: z.boolean().optional(),
            probe: z.boolean().optional(),
          }),
        },
      },
      async (req) => {
        requireAdmin(req);
        return relay.update(req.params.id, req.body).catch(relayError);
      },
    );
    app.delete(
      '/streams/:id',
      { schema: { tags, summary: 'Stop and delete a relay stream', params } },
      async (req, reply) => {
        requireAdmin(req);
        await relay.remove(req.params.id).catch(relayError);
        return reply.code(204).send();
      },
    );
    app.post(
      '/streams/:id/:action',
      {
        schema: {
          tags,
          summary: "Start, stop or restart a relay stream's job",
          params: z.object({ id: streamIdSchema, action: z.enum(['start', 'stop', 'restart']) }),
        },
      },
      async (req) => {
        requireAdmin(req);
        return { stream: await relay.control(req.params.id, req.params.action).catch(relayError) };
      },
    );
    app.get(
      '/streams/:id/logs',
      { schema: { tags, summary: "A relay stream's log, newest first", params, querystring: limitQuery } },
      async (req) => ({ logs: relay.logs(req.params.id, req.query.limit) }),
    );
    app.get(
      '/streams/:id/history',
      { schema: { tags, summary: "A relay stream's URL changes, newest first", params, querystring: limitQuery } },
      async (req) => ({ history: relay.history(req.params.id, req.query.limit) }),
    );
    app.get('/sse', { schema: { tags, summary: "The relay's SSE client" } }, async () => ({ sse: relay.sseStatus() }));
    app.get(
      '/sse/events',
      { schema: { tags, summary: 'Events received from the control server, newest first', querystring: limitQuery } },
      async (req) => ({ events: relay.events(req.query.limit) }),
    );
  };
}
