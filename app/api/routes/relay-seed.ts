/**
 * The seed 002 routes, named and shaped as the seed names them (snake_case), outside /api/v1 but behind the same
 * auth hook and error shape: /api/stream/{start,status,control,history,logs}, /api/config/urls,
 * /api/config/sse and /api/sse/{status,events}. A stream id may be given; the default is relay.sse.defaultStreamId.
 * A refused URL change answers `{ success: false, validated, errors }` together with the usual `error` object.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RelayConfig } from '../../config/relay.js';
import type { RelayStreamView } from '../../defs/relay.js';
import type { UrlChangeResult } from '../../relay/url-change.js';
import { maskUrl } from '../../log/mask.js';
import { requireAdmin } from '../auth-hook.js';
import { ApiError, errorBody } from '../errors.js';
import type { ConfigControl } from './config.js';
import { limitQuery, relayError, streamIdSchema, type RelayApi } from './relay.js';

/** What the seed routes need. */
export interface RelaySeedDeps {
  relay: RelayApi;
  /** The current `relay` config section. */
  relayConfig: () => RelayConfig;
  config: ConfigControl;
}

const url = z.string().max(4096);
const streamQuery = z.object({ stream_id: streamIdSchema.optional() });
const tags = ['relay (seed 002)'];

function statusOf(id: string, s: RelayStreamView | undefined) {
  return {
    stream_id: id,
    status: s?.state ?? 'not_configured',
    running: s?.state === 'running',
    enabled: s?.enabled ?? false,
    rtsp_url: s?.rtspUrl ?? null,
    rtmp_url: s?.rtmpUrl ?? null,
    pid: s?.pid ?? null,
    started_at: s?.startedAt ?? null,
    restarts: s?.restarts ?? 0,
    reason: s?.reason ?? null,
    last_switch: s?.lastSwitch ?? null,
    last_update_at: s?.lastUpdateAt ?? null,
    progress: s?.progress ?? null,
  };
}

function sseSettings(c: RelayConfig['sse']) {
  return {
    url: c.url ? maskUrl(c.url) : null,
    auth_header_name: c.authHeaderName,
    auth_header_set: c.authHeader !== undefined,
    default_stream_id: c.defaultStreamId,
    heartbeat_timeout_ms: c.heartbeatTimeoutMs,
    reconnect_initial_ms: c.reconnectInitialMs,
    reconnect_max_ms: c.reconnectMaxMs,
    max_event_bytes: c.maxEventBytes,
  };
}

/** A refused change: 400 (invalid) or 409 (the switch failed), with the seed's fields and the usual error object. */
function refusal(result: UrlChangeResult) {
  const status = result.validated ? 409 : 400;
  const code = result.validated ? 'switch_failed' : 'invalid_url';
  const field = /^(rtsp_url|rtmp_url)\b/.exec(result.errors[0] ?? '')?.[1];
  const body = { success: false, validated: result.validated, errors: result.errors, message: result.message };
  return { status, body: { ...body, ...errorBody(code, result.errors.join('; '), field) } };
}

/** Registers the seed routes on the root instance. */
export function relaySeedRoutes(d: RelaySeedDeps): FastifyPluginAsyncZod {
  const idOf = (given: string | undefined) => given ?? d.relay.defaultStreamId();
  return async (app) => {
    app.post(
      '/api/stream/start',
      {
        schema: {
          tags,
          summary: 'Start the stream, optionally with new URLs → { success, stream_id, message }',
          body: z.object({ rtsp_url: url.optional(), rtmp_url: url.optional(), stream_id: streamIdSchema.optional() }),
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const id = idOf(req.body.stream_id);
        const { rtsp_url, rtmp_url } = req.body;
        if (rtsp_url || rtmp_url) {
          const change = await d.relay.changeUrls({
            streamId: id,
            rtspUrl: rtsp_url,
            rtmpUrl: rtmp_url,
            restart: true,
            source: 'manual',
          });
          if (change.errors.length) {
            const { status, body } = refusal(change);
            return reply.code(status).send(body);
          }
        } else if (!d.relay.get(id)) {
          const msg = `stream ${id} has no URLs yet: give rtsp_url and rtmp_url`;
          throw new ApiError(409, 'not_configured', msg);
        }
        const before = d.relay.get(id)?.state;
        const stream = await d.relay.control(id, 'start').catch(relayError);
        const message = before === 'running' ? 'stream already running' : `stream ${stream.state}`;
        return { success: true, stream_id: id, message };
      },
    );
    app.get(
      '/api/stream/status',
      { schema: { tags, summary: 'State of the stream and of the SSE client', querystring: streamQuery } },
      async (req) => {
        const id = idOf(req.query.stream_id);
        return { ...statusOf(id, d.relay.get(id)), sse: d.relay.sseStatus() };
      },
    );
    app.post(
      '/api/stream/control',
      {
        schema: {
          tags,
          summary: 'start | stop | restart the stream',
          body: z.object({ action: z.enum(['start', 'stop', 'restart']), stream_id: streamIdSchema.optional() }),
        },
      },
      async (req) => {
        requireAdmin(req);
        const id = idOf(req.body.stream_id);
        const stream = await d.relay.control(id, req.body.action).catch(relayError);
        return { success: true, stream_id: id, action: req.body.action, status: stream.state };
      },
    );
    app.get(
      '/api/config/urls',
      { schema: { tags, summary: "The stream's URLs (passwords masked)", querystring: streamQuery } },
      async (req) => {
        const id = idOf(req.query.stream_id);
        const s = d.relay.get(id);
        return {
          stream_id: id,
          rtsp_url: s?.rtspUrl ?? null,
          rtmp_url: s?.rtmpUrl ?? null,
          updated_at: s?.updatedAt ?? null,
        };
      },
    );
    app.put(
      '/api/config/urls',
      {
        schema: {
          tags,
          summary:
            'Change the URLs (validated, optionally probed; restart_stream switches now) → { success, validated, errors }',
          body: z.object({
            rtsp_url: url.optional(),
            rtmp_url: url.optional(),
            restart_stream: z.boolean().optional(),
            probe: z.boolean().optional(),
            stream_id: streamIdSchema.optional(),
          }),
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const b = req.body;
        const result = await d.relay.changeUrls({
          streamId: idOf(b.stream_id),
          rtspUrl: b.rtsp_url,
          rtmpUrl: b.rtmp_url,
          restart: b.restart_stream === true,
          probe: b.probe,
          source: 'api',
        });
        if (result.errors.length) {
          const { status, body } = refusal(result);
          return reply.code(status).send(body);
        }
        return {
          success: true,
          validated: true,
          errors: [],
          changed: result.changed,
          switched: result.switched,
          mode: result.mode,
          gap_ms: result.gapMs,
          message: result.message,
        };
      },
    );
    app.get(
      '/api/config/sse',
      { schema: { tags, summary: 'SSE client settings (auth header never shown)' } },
      async () => ({
        ...sseSettings(d.relayConfig().sse),
        status: d.relay.sseStatus(),
      }),
    );
    app.put(
      '/api/config/sse',
      {
        schema: {
          tags,
          summary: 'Change SSE client settings (saved as relay.sse.*; the client reconnects); null resets a field',
          body: z.strictObject({
            url: z.string().max(4096).nullable().optional(),
            auth_header_name: z.string().max(64).nullable().optional(),
            auth_header: z.string().max(4096).nullable().optional(),
            default_stream_id: z.string().max(64).nullable().optional(),
            heartbeat_timeout_ms: z.number().nullable().optional(),
            reconnect_initial_ms: z.number().nullable().optional(),
            reconnect_max_ms: z.number().nullable().optional(),
            max_event_bytes: z.number().nullable().optional(),
          }),
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const b = req.body;
        const sse = Object.fromEntries(
          Object.entries({
            url: b.url,
            authHeaderName: b.auth_header_name,
            authHeader: b.auth_header,
            defaultStreamId: b.default_stream_id,
            heartbeatTimeoutMs: b.heartbeat_timeout_ms,
            reconnectInitialMs: b.reconnect_initial_ms,
            reconnectMaxMs: b.reconnect_max_ms,
            maxEventBytes: b.max_event_bytes,
          }).filter(([, v]) => v !== undefined),
        );
        const { result, after } = await d.config.apply({ relay: { sse } });
        reply.raw.once('finish', () => void after());
        return { success: true, changed: result.changed, ...sseSettings(d.relayConfig().sse) };
      },
    );
    app.get('/api/sse/status', { schema: { tags, summary: "The SSE client's connection" } }, async () =>
      d.relay.sseStatus(),
    );
    app.get(
      '/api/sse/events',
      { schema: { tags, summary: 'Events received from the control server', querystring: limitQuery } },
      async (req) => ({ events: d.relay.events(req.query.limit) }),
    );
    app.get(
      '/api/stream/history',
      {
        schema: {
          tags,
          summary: 'URL changes (change_source sse | api | manual)',
          querystring: limitQuery.extend(streamQuery.shape),
        },
      },
      async (req) => ({ history: d.relay.history(req.query.stream_id ?? null, req.query.limit) }),
    );
    app.get(
      '/api/stream/logs',
      {
        schema: {
          tags,
          summary: 'Stream log lines (the SSE client logs as _sse)',
          querystring: limitQuery.extend(streamQuery.shape),
        },
      },
      async (req) => ({ logs: d.relay.logs(req.query.stream_id ?? null, req.query.limit) }),
    );
  };
}
