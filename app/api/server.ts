/** The HTTP API component: Fastify with zod-validated routes, auth, rate limits, OpenAPI, SSE, metrics and the UI. */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { CameraRegistry } from '../cameras/registry.js';
import type { MediaCounters, PlaneStream, PullStatus } from '../media/worker/protocol.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/store.js';
import type { AuthService } from './auth/auth-service.js';
import { installAuth } from './auth-hook.js';
import { ApiError, installErrorHandlers } from './errors.js';
import { createMetrics } from './metrics.js';
import { authRoutes } from './routes/auth.js';
import { cameraRoutes } from './routes/cameras.js';
import { configRoutes, type ConfigControl } from './routes/config.js';
import { eventRoutes, SseHub } from './routes/events.js';
import { jobRoutes, type JobsApi } from './routes/jobs.js';
import { leaseRoutes, type LeaseBook } from './routes/leases.js';
import { peerRoutes, type PeerRouteDeps } from './routes/peers.js';
import { healthRoutes, nodeRoutes, type NodeRouteDeps } from './routes/node.js';
import { relayRoutes, type RelayApi } from './routes/relay.js';
import { relaySeedRoutes } from './routes/relay-seed.js';
import { previewApiRoutes, previewRoutes, previewTokenCheck, type PreviewRouteDeps } from './routes/previews.js';
import type { MasterRelay } from '../roles/master.js';
import { streamRoutes } from './routes/streams.js';
import { tokenRoutes } from './routes/tokens.js';

/** Everything the API serves. */
export interface ApiDeps extends NodeRouteDeps {
  options: Config['api'];
  auth: AuthService;
  authOptions: () => Config['auth'];
  store: Store;
  cameras: CameraRegistry;
  rtmpPort: () => number;
  streams: () => PlaneStream[];
  /** Totals of the media ports (slave role); null elsewhere or before the media plane reported. */
  mediaCounters: () => MediaCounters | null;
  /** Pullers of rtsp-pull cameras (slave role). */
  mediaPulls: () => PullStatus[];
  /** The master's relays; null (or absent) when this node is no master. */
  relays?: (() => MasterRelay[]) | null;
  /** Camera leases (slave role); without them /api/v1/leases is not served. */
  leases: LeaseBook | null;
  /** The compressor role's jobs, encoders and slave links; without it /api/v1/jobs is not served. */
  compressor: JobsApi | null;
  /** A master's peer monitor; /api/v1/peers is served when this or `compressor` is there. */
  peers?: PeerRouteDeps['monitor'];
  /** HLS, MJPEG and snapshot previews with their signed links; without them /hls, /mjpeg, /snapshot are not served. */
  previews?: PreviewRouteDeps | null;
  /** The relay (app/relay) and its config section; without it /api/v1/relay and the seed 002 routes are not served. */
  relay?: { api: RelayApi; config: () => Config['relay'] } | null;
  /** Preset names of the current config (for PATCH /jobs). */
  presets: () => string[];
  bus: EventBus;
  log: Logger;
  config: ConfigControl;
  /** Built UI (dist/renderer); not served when missing. */
  uiDir: string | null;
  version: string;
  heartbeatMs?: number;
}

/** True when a TCP server could listen on host:port right now. */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** Owns the Fastify instance; start() listens, stop() closes every connection including SSE. */
export class ApiServer {
  private app: FastifyInstance | null = null;
  private readonly hub = new SseHub();

  constructor(private readonly deps: ApiDeps) {}

  /** The address actually listened on (port 0 resolved). */
  url = '';

  /** Builds the app and listens. Throws when the port is taken (EADDRINUSE) with a clear message. */
  async start(): Promise<void> {
    const app = await this.build();
    const { host, port } = this.deps.options;
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new Error(`api.port: port ${port} on ${host} is already in use`);
      throw err;
    }
    const addr = app.server.address();
    const actual = typeof addr === 'object' && addr ? addr.port : port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
    this.app = app;
  }

  /** Closes SSE streams first (they never end by themselves), then the server. */
  async stop(): Promise<void> {
    this.hub.closeAll();
    await this.app?.close();
    this.app = null;
  }

  /** The Fastify instance, for in-process tests (`inject`). */
  get instance(): FastifyInstance {
    if (!this.app) throw new Error('api is not started');
    return this.app;
  }

  private async build(): Promise<FastifyInstance> {
    const d = this.deps;
    const app = Fastify({
      loggerInstance: d.log.child({ component: 'api' }) as FastifyBaseLogger,
      // Per-request lines would flood the log and could carry tokens in URLs; failures are logged by onResponse.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: d.options.bodyLimitBytes,
      trustProxy: false,
      return503OnClosing: true,
      forceCloseConnections: true,
      clientErrorHandler: (_err, socket) => {
        const body = JSON.stringify({ error: { code: 'bad_request', message: 'malformed HTTP request' } });
        if (socket.writable)
          socket.end(
            `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
        else socket.destroy();
      },
    });
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    installErrorHandlers(app);

    const metrics = createMetrics({
      children: d.children,
      sseClients: () => this.hub.clients.size,
      eventsPublished: () => d.bus.lastId,
      streams: d.streams,
      mediaCounters: d.mediaCounters,
      jobs: () => d.compressor?.jobs() ?? [],
      peers: () => d.peers?.list() ?? [],
      health: () => d.nodeInfo().health,
    });
    app.addHook('onResponse', async (req, reply) => {
      metrics.httpRequests.inc({ status: `${Math.floor(reply.statusCode / 100)}xx` });
      if (reply.statusCode >= 500)
        req.log.warn({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode }, 'request failed');
    });

    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          mediaSrc: ["'self'", 'blob:'],
          connectSrc: ["'self'"],
          workerSrc: ["'self'", 'blob:'],
          frameAncestors: ["'none'"],
          // The appliance serves plain HTTP on 127.0.0.1 or a LAN; upgrading would break it.
          upgradeInsecureRequests: null,
        },
      },
      crossOriginEmbedderPolicy: false,
    });
    // Only JSON bodies: anything else is 415, not a string handed to a route.
    app.removeContentTypeParser('text/plain');
    await app.register(cors, {
      origin: d.options.corsOrigins.length ? d.options.corsOrigins : false,
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    });
    await app.register(rateLimit, {
      global: true,
      max: d.options.rateLimitPerMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (_req, ctx) =>
        new ApiError(429, 'rate_limited', `too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
    });
    await app.register(swagger, {
      openapi: {
        info: { title: 'Cupola API', version: d.version },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
      transform: jsonSchemaTransform,
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs' });
    installAuth(app, d.auth, d.previews ? previewTokenCheck(d.previews) : undefined);

    await app.register(healthRoutes(d));
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
    await app.register(
      async (v1) => {
        await v1.register(
          authRoutes({
            auth: d.auth,
            loginPerMinute: () => d.authOptions().loginAttemptsPerMinute,
            audit: (action, ip) => d.store.audit.add({ actor: 'admin', action, ip }),
          }),
          { prefix: '/auth' },
        );
        await v1.register(tokenRoutes({ auth: d.auth, store: d.store, bus: d.bus }), { prefix: '/tokens' });
        await v1.register(cameraRoutes({ cameras: d.cameras, rtmpPort: d.rtmpPort }), { prefix: '/cameras' });
        if (d.leases) await v1.register(leaseRoutes({ leases: d.leases }), { prefix: '/leases' });
        const compressor = d.compressor;
        if (compressor) await v1.register(jobRoutes({ compressor, config: d.config, presets: d.presets }));
        if (compressor || d.peers) await v1.register(peerRoutes({ monitor: d.peers ?? null, links: compressor }));
        await v1.register(nodeRoutes(d));
        await v1.register(streamRoutes({ ...d, relays: d.relays ?? null }));
        await v1.register(configRoutes(d.config));
        await v1.register(eventRoutes({ bus: d.bus, hub: this.hub, heartbeatMs: d.heartbeatMs ?? 15_000 }));
        if (d.previews) await v1.register(previewApiRoutes(d.previews));
        if (d.relay) await v1.register(relayRoutes(d.relay.api), { prefix: '/relay' });
      },
      { prefix: '/api/v1' },
    );
    if (d.previews) await app.register(previewRoutes(d.previews));
    // The seed 002 routes keep the seed's paths (outside /api/v1); the auth hook covers every /api/ path.
    if (d.relay)
      await app.register(relaySeedRoutes({ relay: d.relay.api, relayConfig: d.relay.config, config: d.config }));
    if (d.uiDir && existsSync(d.uiDir)) {
      await app.register(fastifyStatic, { root: d.uiDir, wildcard: false, index: ['index.html'] });
      // The UI routes with the hash, so only unknown non-API GETs fall back to index.html.
      app.get('/*', { schema: { hide: true } }, (req, reply) => {
        const path = req.url.split('?')[0]!;
        if (path.startsWith('/api/')) throw new ApiError(404, 'not_found', `no route GET ${path}`);
        return reply.sendFile('index.html');
      });
    }
    return app;
  }
}
