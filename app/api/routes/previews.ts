/**
 * Preview routes: `GET /hls/<feed>/<path>/index.m3u8` (+ `init[<run>].mp4`, `seg<n>.m4s`), `GET /mjpeg/<feed>/<path>`
 * (`multipart/x-mixed-replace`), `GET /snapshot/<feed>/<path>.jpg`, each also as HEAD; and under /api/v1:
 * `POST /previews/token` (a signed link for players without headers) and `GET /previews` (running muxers and
 * decoders). Authentication is the API's (bearer header or session cookie) or a signed `?t=` token of the same
 * stream, checked by the auth hook.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PreviewLink } from '../../defs/preview.js';
import { INIT_NAME, PLAYLIST, SEGMENT_NAME } from '../../media/hls/hls-args.js';
import { rewritePlaylist } from '../../media/hls/playlist.js';
import { DEFAULT_FPS, DEFAULT_WIDTH, type MjpegViewerHandle } from '../../media/mjpeg/mjpeg-service.js';
import { MULTIPART_TYPE, type PartSink } from '../../media/mjpeg/multipart.js';
import {
  parsePreviewName,
  PreviewError,
  type Feed,
  type PreviewFailure,
  type PreviewSources,
} from '../../media/preview/sources.js';
import type { QueryTokenCheck } from '../auth-hook.js';
import { ApiError } from '../errors.js';
import { errorSchema } from '../schemas.js';

/** The HLS side the routes need. */
export interface HlsPreviews {
  playlist(feed: Feed, path: string): Promise<string>;
  file(feed: Feed, path: string, name: string): Promise<Buffer | null>;
  /** For HEAD: throws what playlist() would, starting nothing. */
  check(feed: Feed, path: string): void;
  /** For HEAD: the size of what file() would return, not counted as a request. */
  size(feed: Feed, path: string, name: string): Promise<number | null>;
  muxers(): unknown[];
}

/** The MJPEG side the routes need. */
export interface MjpegPreviews {
  attach(feed: Feed, path: string, fps: number, width: number, out: PartSink): MjpegViewerHandle;
  snapshot(feed: Feed, path: string, width: number | null): Promise<Buffer>;
  /** For HEAD: throws what attach() (fps given) or snapshot() (fps null) would, starting and joining nothing. */
  check(feed: Feed, path: string, fps: number | null, width: number | null): void;
  decoders(): unknown[];
}

/** Everything the preview routes use. */
export interface PreviewRouteDeps {
  hls: HlsPreviews;
  mjpeg: MjpegPreviews;
  sources: PreviewSources;
  tokens: {
    mint(scope: string, ttlS: number): { token: string; expiresAt: string };
    verify(token: string, scope: string): 'ok' | 'invalid' | 'expired' | 'wrong-scope';
  };
  /** `previews.tokenTtlS` and `previews.hlsHoldBackS` of the running config. */
  options: () => { tokenTtlS: number; hlsHoldBackS: number };
}

const STATUS: Record<PreviewFailure, [number, string]> = {
  unknown: [404, 'not_found'],
  offline: [503, 'stream_offline'],
  busy: [503, 'too_many_previews'],
  timeout: [504, 'preview_timeout'],
  stopped: [503, 'unavailable'],
};

/** A PreviewError as the API's error; anything else unchanged. */
function asApiError(err: unknown): unknown {
  if (!(err instanceof PreviewError)) return err;
  const [status, code] = STATUS[err.reason];
  return new ApiError(status, code, err.message);
}

/** `p`, with a PreviewError turned into the API's error. */
async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw asApiError(err);
  }
}

/** The auth hook's check of a signed `?t=` (null for paths that are not previews). */
export function previewTokenCheck(deps: Pick<PreviewRouteDeps, 'tokens'>): QueryTokenCheck {
  return (urlPath, token) => {
    const scope = previewScopeOf(urlPath);
    return scope === null ? null : deps.tokens.verify(token, scope);
  };
}

/** The stream a preview URL path is about (`/hls/f1/a/b/index.m3u8` → `f1/a/b`); null for other paths. */
export function previewScopeOf(urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const m = /^\/(hls|mjpeg|snapshot)\/(.+)$/.exec(path);
  if (!m) return null;
  let name = m[2]!;
  if (m[1] === 'hls') name = name.slice(0, Math.max(0, name.lastIndexOf('/')));
  else if (m[1] === 'snapshot') name = name.endsWith('.jpg') ? name.slice(0, -4) : '';
  return parsePreviewName(name) ? name : null;
}

function nameOf(raw: string): { feed: Feed; path: string } {
  const parsed = parsePreviewName(raw);
  if (!parsed) throw new ApiError(404, 'not_found', `no preview ${JSON.stringify(raw.slice(0, 200))}`);
  return parsed;
}

const RULES = { fps: 'expected an integer 1-30', width: 'expected an even integer 16-3840' };
const int = (min: number, max: number, rule: string) =>
  z.coerce.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
const width = int(16, 3840, RULES.width).refine((w) => w % 2 === 0, { error: RULES.width });
const token = z.string().max(1000).optional();
const wildcard = z.object({ '*': z.string() });

/**
 * Preview routes at the root (`/hls`, `/mjpeg`, `/snapshot`). A HEAD answers what the GET would (status, type;
 * the size of an init section or segment) but never starts a muxer or decoder, joins one, or counts as a request.
 */
export function previewRoutes(deps: PreviewRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.route({
      method: ['GET', 'HEAD'],
      url: '/hls/*',
      schema: {
        tags: ['previews'],
        summary: 'HLS preview: <feed>/<path>/index.m3u8 starts the muxer; init[<run>].mp4 and seg<n>.m4s',
        params: wildcard,
        querystring: z.object({ t: token }),
      },
      handler: async (req, reply) => {
        const rest = req.params['*'];
        const slash = rest.lastIndexOf('/');
        const file = rest.slice(slash + 1);
        const { feed, path } = nameOf(rest.slice(0, Math.max(0, slash)));
        const head = req.method === 'HEAD';
        if (file === PLAYLIST) {
          if (head) orApiError(() => deps.hls.check(feed, path));
          const text = head ? null : await mapped(deps.hls.playlist(feed, path));
          reply.type('application/vnd.apple.mpegurl').header('cache-control', 'no-cache');
          if (text === null) return reply.send();
          const query = req.query.t ? `t=${encodeURIComponent(req.query.t)}` : null;
          return reply.send(rewritePlaylist(text, { query, holdBackS: deps.options().hlsHoldBackS || null }));
        }
        if (!INIT_NAME.test(file) && !SEGMENT_NAME.test(file)) {
          throw new ApiError(404, 'not_found', `no HLS file ${JSON.stringify(file.slice(0, 100))}`);
        }
        // HEAD: the size the GET would send (fastify keeps a content-length set on a HEAD reply without a body).
        const size = head ? await mapped(deps.hls.size(feed, path, file)) : null;
        const data = head ? null : await mapped(deps.hls.file(feed, path, file));
        if (size === null && data === null) {
          throw new ApiError(404, 'not_found', `${file} of ${feed}/${path} is not (or no longer) there`);
        }
        reply.type(INIT_NAME.test(file) ? 'video/mp4' : 'video/iso.segment').header('cache-control', 'no-cache');
        return data ? reply.send(data) : reply.header('content-length', size).send();
      },
    });

    app.route({
      method: ['GET', 'HEAD'],
      url: '/mjpeg/*',
      schema: {
        tags: ['previews'],
        summary: 'MJPEG preview (multipart/x-mixed-replace) of <feed>/<path>',
        params: wildcard,
        querystring: z.object({
          fps: int(1, 30, RULES.fps).default(DEFAULT_FPS),
          width: width.default(DEFAULT_WIDTH),
          t: token,
        }),
      },
      handler: async (req, reply) => {
        const { feed, path } = nameOf(req.params['*']);
        const { fps, width } = req.query;
        if (req.method === 'HEAD') {
          orApiError(() => deps.mjpeg.check(feed, path, fps, width));
          return reply.headers(MULTIPART_HEADERS).send();
        }
        const res = reply.raw;
        const sink: PartSink = {
          write: (chunk) => res.write(chunk),
          end: () => res.end(),
          get writableLength() {
            return res.writableLength;
          },
          get destroyed() {
            return res.destroyed;
          },
        };
        const handle = orApiError(() => deps.mjpeg.attach(feed, path, fps, width, sink));
        return stream(reply, handle);
      },
    });

    app.route({
      method: ['GET', 'HEAD'],
      url: '/snapshot/*',
      schema: {
        tags: ['previews'],
        summary: 'The latest picture of <feed>/<path>.jpg as a JPEG',
        params: wildcard,
        querystring: z.object({ width: width.optional(), t: token }),
      },
      handler: async (req, reply) => {
        const rest = req.params['*'];
        if (!rest.endsWith('.jpg')) throw new ApiError(404, 'not_found', 'a snapshot path ends with .jpg');
        const { feed, path } = nameOf(rest.slice(0, -4));
        const width = req.query.width ?? null;
        const head = req.method === 'HEAD';
        if (head) orApiError(() => deps.mjpeg.check(feed, path, null, width));
        const jpeg = head ? undefined : await mapped(deps.mjpeg.snapshot(feed, path, width));
        return reply.type('image/jpeg').header('cache-control', 'no-store').send(jpeg);
      },
    });
  };
}

/** `f()`, with a PreviewError turned into the API's error. */
function orApiError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw asApiError(err);
  }
}

const MULTIPART_HEADERS = {
  'content-type': MULTIPART_TYPE,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** Hands the response over to the viewer: headers now, parts from the decoder until the client goes away. */
function stream(reply: FastifyReply, handle: MjpegViewerHandle): void {
  reply.hijack();
  const res = reply.raw;
  res.once('close', () => handle.close());
  res.writeHead(200, { ...(reply.getHeaders() as OutgoingHttpHeaders), ...MULTIPART_HEADERS });
  res.flushHeaders(); // the client sees 200 now, not with the first image
  // Nagle would hold a part's tail back until the next part: every image goes out at once.
  res.socket?.setNoDelay(true);
  handle.begin();
}

/** Preview routes under /api/v1: signed links and the list of running previews. */
export function previewApiRoutes(deps: PreviewRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/previews/token',
      {
        schema: {
          tags: ['previews'],
          summary: 'A short-lived signed link (?t=) to the previews of one stream, for players without headers',
          body: z.object({
            stream: z.string().min(4).max(600),
            ttlS: z.int().min(10).max(86_400).optional(),
          }),
          response: {
            200: z.object({
              stream: z.string(),
              token: z.string(),
              expiresAt: z.string(),
              hls: z.string(),
              mjpeg: z.string(),
              snapshot: z.string(),
            }),
            400: errorSchema,
            404: errorSchema,
          },
        },
      },
      async (req): Promise<PreviewLink> => {
        const parsed = parsePreviewName(req.body.stream);
        if (!parsed) throw new ApiError(400, 'invalid_request', 'stream: expected <f1|f2>/<path>', 'stream');
        const max = deps.options().tokenTtlS;
        const ttlS = req.body.ttlS ?? max;
        if (ttlS > max) throw new ApiError(400, 'invalid_request', `ttlS: at most ${max} (previews.tokenTtlS)`, 'ttlS');
        const { feed, path } = parsed;
        if (!deps.sources.resolve(feed, path)) throw new ApiError(404, 'not_found', `no stream ${feed}/${path}`);
        const name = `${feed}/${path}`;
        const { token, expiresAt } = deps.tokens.mint(name, ttlS);
        const q = `t=${encodeURIComponent(token)}`;
        return {
          stream: name,
          token,
          expiresAt,
          hls: `/hls/${name}/index.m3u8?${q}`,
          mjpeg: `/mjpeg/${name}?${q}`,
          snapshot: `/snapshot/${name}.jpg?${q}`,
        };
      },
    );
    app.get(
      '/previews',
      { schema: { tags: ['previews'], summary: 'Running HLS muxers and MJPEG decoders' } },
      async () => ({
        hls: deps.hls.muxers(),
        mjpeg: deps.mjpeg.decoders(),
      }),
    );
  };
}
