/** The composition root: builds the components for the node's role(s), starts them in order, stops them in reverse. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AuthService } from './api/auth/auth-service.js';
import { PreviewTokens } from './api/auth/preview-token.js';
import { ApiError } from './api/errors.js';
import type { ApplyResult, ConfigControl } from './api/routes/config.js';
import { ApiServer, canListen } from './api/server.js';
import { LeaseTable } from './cameras/leases.js';
import { CameraRegistry } from './cameras/registry.js';
import { touches } from './config/diff.js';
import { configJsonSchema } from './config/fields.js';
import type { LoadedConfig } from './config/load.js';
import { redactConfig } from './config/redact.js';
import type { Config } from './config/schema.js';
import { ConfigService, flattenPatch, PinnedFieldError } from './config/service.js';
import type { ChildStatus } from './defs/child.js';
import type { NodeInfo, Role } from './defs/node.js';
import { EventBus } from './events/bus.js';
import { createLogger, type Logger, type LoggerHandle } from './log/logger.js';
import { DataDirLock } from './store/data-dir-lock.js';
import { Store } from './store/store.js';
import { Supervisor } from './supervisor/supervisor.js';
import { CompressorRole } from './roles/compressor.js';
import { SlaveRole } from './roles/slave.js';
import { MasterRole } from './roles/master.js';
import { NodeHealthSampler } from './cluster/node-health.js';
import { PeerMonitor } from './cluster/peer-monitor.js';
import { resolveFfmpeg } from './ffmpeg/resolve.js';
import { RelayController } from './relay/controller.js';
import { RelayService } from './relay/service.js';
import { HlsService } from './media/hls/hls-service.js';
import { MjpegService } from './media/mjpeg/mjpeg-service.js';
import type { PreviewSources } from './media/preview/sources.js';
import { PACKAGE_ROOT, VERSION } from './version.js';

/** A part of the core with a lifecycle. `keys` are the config prefixes it reads; `reconfigure` applies them live. */
interface Component {
  name: string;
  keys: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  reconfigure?(): void;
}

/** Options of createCore beyond the config. */
export interface CoreOptions {
  /** Use this logger instead of creating one (stdout + rotating file). */
  logger?: LoggerHandle;
  /** Built UI directory; defaults to dist/renderer next to the package. */
  uiDir?: string | null;
  /** SSE heartbeat interval (tests shorten it). */
  heartbeatMs?: number;
}

function rolesOf(role: Config['node']['role']): Role[] {
  return role === 'all' ? ['slave', 'compressor', 'master'] : [role];
}

function defaultUiDir(): string | null {
  const dir = join(PACKAGE_ROOT, 'dist', 'renderer');
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

/** One Cupola node. Constructed with its config; start() and stop() do the work. */
export class Core {
  readonly bus: EventBus;
  private readonly settings: ConfigService;
  private logHandle: LoggerHandle | null = null;
  private components: Component[] = [];
  private started: Component[] = [];
  private startedAt = new Date();
  private password: string | null = null;
  private api: ApiServer | null = null;
  private supervisor: Supervisor | null = null;
  private slave: SlaveRole | null = null;
  private health: NodeHealthSampler | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly options: CoreOptions = {},
  ) {
    this.settings = new ConfigService(loaded);
    this.bus = new EventBus(loaded.config.api.eventHistory);
  }

  /** The running config. */
  get config(): Config {
    return this.settings.config;
  }

  /** The API's base URL once started (`http://127.0.0.1:8080`). */
  get url(): string {
    return this.api?.url ?? '';
  }

  /** The logger (valid after start()). */
  get log(): Logger {
    if (!this.logHandle) throw new Error('core is not started');
    return this.logHandle.log;
  }

  /** The admin password generated at first start, returned once and then forgotten. */
  takeGeneratedPassword(): string | null {
    const p = this.password;
    this.password = null;
    return p;
  }

  /** Supervised child processes (empty before start). */
  children(): ChildStatus[] {
    return this.supervisor?.list() ?? [];
  }

  /** Identity of this node for the API and peers. */
  nodeInfo(): NodeInfo {
    const c = this.config;
    return {
      name: c.node.name,
      site: c.node.site,
      roles: rolesOf(c.node.role),
      version: VERSION,
      startedAt: this.startedAt.toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      pid: process.pid,
      media: this.slave?.planePorts ?? null,
      health: this.health?.snapshot() ?? null,
    };
  }

  /** Starts every component in order; on failure stops what had started and rethrows. */
  async start(): Promise<void> {
    const c = this.config;
    this.startedAt = new Date();
    this.logHandle =
      this.options.logger ??
      createLogger({
        level: c.log.level,
        dir: join(c.dataDir, 'logs'),
        fileMaxBytes: c.log.fileMaxBytes,
        fileCount: c.log.fileCount,
      });
    this.components = this.build();
    try {
      for (const component of this.components) {
        await component.start();
        this.started.push(component);
      }
    } catch (err) {
      await this.stopStarted();
      if (!this.options.logger) await this.logHandle.close();
      this.logHandle = null;
      throw err;
    }
    this.bus.emit('node.started', { name: c.node.name, roles: rolesOf(c.node.role), version: VERSION });
    this.log.info(
      { url: this.url, roles: rolesOf(c.node.role), dataDir: c.dataDir, version: VERSION },
      'cupola started',
    );
  }

  /** Stops every started component in reverse order; safe to call twice. */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.started.length) this.bus.emit('node.stopping', { reason });
      this.logHandle?.log.info({ reason }, 'cupola stopping');
      await this.stopStarted();
      this.logHandle?.log.info('cupola stopped');
      if (!this.options.logger) await this.logHandle?.close();
    })();
    return this.stopping;
  }

  private async stopStarted(): Promise<void> {
    for (const component of [...this.started].reverse()) {
      try {
        await component.stop();
      } catch (err) {
        this.logHandle?.log.error({ err, component: component.name }, 'component failed to stop cleanly');
      }
    }
    this.started = [];
  }

  /** Validates, persists and applies a config patch; components whose fields changed are restarted afterwards. */
  async applyConfig(patch: Record<string, unknown>): Promise<{ result: ApplyResult; after: () => Promise<void> }> {
    const flat = flattenPatch(patch);
    const host = flat['api.host'] ?? this.config.api.host;
    const port = flat['api.port'] ?? this.config.api.port;
    const moves = host !== this.config.api.host || port !== this.config.api.port;
    // Check before persisting: a saved port that cannot be bound would leave the node without an API now and at the next start.
    if (moves && typeof host === 'string' && typeof port === 'number' && port > 0 && !(await canListen(host, port))) {
      throw new ApiError(409, 'port_in_use', `api.port: port ${port} on ${host} is already in use`, 'api.port');
    }
    let change;
    try {
      change = this.settings.change(patch);
    } catch (err) {
      if (err instanceof PinnedFieldError) throw new ApiError(409, 'pinned_field', err.message, err.field);
      throw err;
    }
    this.settings.commit(change.next);
    const live = change.changed.filter((p) => !change.restartRequired.includes(p));
    const affected = this.started.filter((comp) => touches(live, comp.keys));
    const restarted: string[] = [];
    for (const comp of affected) {
      if (comp.reconfigure) comp.reconfigure();
      else restarted.push(comp.name);
    }
    const result = { changed: change.changed, restarted, restartRequired: change.restartRequired };
    this.bus.emit('config.changed', result);
    this.log.info(result, 'config changed');
    const after = async () => {
      for (const name of restarted) {
        const comp = this.started.find((x) => x.name === name);
        if (!comp) continue;
        try {
          await comp.stop();
          await comp.start();
        } catch (err) {
          this.log.error({ err, component: name }, 'component failed to restart after a config change');
        }
      }
    };
    return { result, after };
  }

  private configControl(): ConfigControl {
    return {
      redacted: () => redactConfig(this.config),
      pinned: () => this.settings.pinned(),
      schema: () => configJsonSchema(),
      apply: (patch) => this.applyConfig(patch),
    };
  }

  /** The components of this node, in start order; role components (slave so far) sit between auth and the API. */
  private build(): Component[] {
    const c = this.config;
    const log = this.log;
    const lock = new DataDirLock(c.dataDir);
    const store = new Store(c.dataDir);
    const supervisor = new Supervisor({
      log: log.child({ component: 'supervisor' }),
      bus: this.bus,
      options: c.supervisor,
      runDir: join(c.dataDir, 'run'),
    });
    const auth = new AuthService(store, c.auth);
    const cameras = new CameraRegistry(store, this.bus);
    const roles = rolesOf(c.node.role);
    const leases = roles.includes('slave')
      ? new LeaseTable({ cameraExists: (id) => store.cameras.get(id) !== undefined, bus: this.bus })
      : null;
    // The media plane runs on a slave (cameras, F1/F2) and on a master (its relays); one worker serves both on `all`.
    const slave =
      roles.includes('slave') || roles.includes('master')
        ? new SlaveRole({
            config: c,
            supervisor,
            bus: this.bus,
            cameras,
            store,
            log: log.child({ component: 'slave' }),
            leases,
          })
        : null;
    const compressor = roles.includes('compressor')
      ? new CompressorRole({
          config: () => this.config,
          supervisor,
          bus: this.bus,
          log: log.child({ component: 'compressor' }),
          ffmpeg: () => resolveFfmpeg({ configured: this.config.ffmpeg.path }).path,
        })
      : null;
    // Previews (every role): streams this node serves, read through the slave's local F1/F2 for now.
    const sources: PreviewSources = { resolve: (feed, path) => slave?.localStream(feed, path) ?? null };
    const previewBase = {
      supervisor,
      sources,
      ffmpeg: ffmpegOnce(() => this.config.ffmpeg.path),
      options: () => this.config.previews,
    };
    const hls = new HlsService({
      ...previewBase,
      dir: join(c.dataDir, 'run', 'hls'),
      log: log.child({ component: 'hls' }),
    });
    const mjpeg = new MjpegService({ ...previewBase, log: log.child({ component: 'mjpeg' }) });
    const previewTokens = new PreviewTokens(store);
    // The dynamic stream controller (every role): RTSP → RTMP jobs whose URLs a control server pushes over SSE.
    const relay = new RelayController({
      config: () => this.config.relay,
      store,
      supervisor,
      bus: this.bus,
      log: log.child({ component: 'relay' }),
      ffmpeg: () => resolveFfmpeg({ configured: this.config.ffmpeg.path }).path,
    });
    const master =
      roles.includes('master') && slave
        ? new MasterRole({ config: () => this.config, plane: slave, log: log.child({ component: 'master' }) })
        : null;
    // Health figures of this node (NodeInfo.health) and, on a master, the watch over its slaves and compressors.
    const health = new NodeHealthSampler({
      children: () => supervisor.list(),
      ...(slave && roles.includes('slave') ? { streams: () => slave.streams() } : {}),
      ...(compressor ? { jobs: () => compressor.jobs() } : {}),
      ...(master ? { relays: () => master.relays().length } : {}),
    });
    const peers = roles.includes('master')
      ? new PeerMonitor({
          config: () => this.config.master,
          bus: this.bus,
          log: log.child({ component: 'peers' }),
        })
      : null;
    this.health = health;
    this.slave = slave;
    this.supervisor = supervisor;
    const api = new ApiServer({
      options: c.api,
      auth,
      authOptions: () => this.config.auth,
      store,
      cameras,
      rtmpPort: () => slave?.planePorts?.rtmpPort ?? this.config.rtmp.port,
      streams: () => slave?.streams() ?? [],
      mediaCounters: () => slave?.counters() ?? null,
      mediaPulls: () => slave?.pulls() ?? [],
      relays: master ? () => master.relays() : null,
      leases,
      compressor,
      peers,
      relay: { api: new RelayService(relay, () => this.config.relay), config: () => this.config.relay },
      previews: { hls, mjpeg, sources, tokens: previewTokens, options: () => this.config.previews },
      presets: () => Object.keys(this.config.compressor.presets),
      bus: this.bus,
      log,
      config: this.configControl(),
      uiDir: this.options.uiDir === undefined ? defaultUiDir() : this.options.uiDir,
      version: VERSION,
      heartbeatMs: this.options.heartbeatMs,
      nodeInfo: () => this.nodeInfo(),
      readiness: () => Object.fromEntries(this.components.map((x) => [x.name, this.started.includes(x)])),
      children: () => this.children(),
    });
    this.api = api;
    return [
      { name: 'data-dir-lock', keys: [], start: async () => lock.acquire(), stop: async () => lock.release() },
      {
        name: 'log',
        keys: ['log.level'],
        start: async () => {},
        stop: async () => {},
        reconfigure: () => (log.level = this.config.log.level),
      },
      { name: 'store', keys: [], start: async () => store.start(), stop: async () => store.stop() },
      { name: 'health', keys: [], start: async () => health.start(), stop: async () => health.stop() },
      {
        name: 'supervisor',
        keys: ['supervisor'],
        start: () => supervisor.start(),
        stop: () => supervisor.stop(),
        reconfigure: () => {},
      },
      {
        name: 'auth',
        keys: ['auth'],
        start: async () => {
          const { generatedPassword } = await auth.start();
          if (generatedPassword) this.password = generatedPassword;
        },
        stop: async () => {},
      },
      ...(slave
        ? [
            {
              name: roles.includes('slave') ? 'slave' : 'media',
              keys: ['rtmp', 'rtsp', 'media'],
              start: () => slave.start(),
              stop: () => slave.stop(),
            },
          ]
        : []),
      ...(master ? [{ name: 'master', keys: ['master'], start: () => master.start(), stop: () => master.stop() }] : []),
      ...(leases
        ? [{ name: 'leases', keys: [], start: async () => leases.start(), stop: async () => leases.stop() }]
        : []),
      ...(compressor
        ? [
            {
              name: 'compressor',
              keys: ['compressor'],
              start: () => compressor.start(),
              stop: () => compressor.stop(),
              reconfigure: () => compressor.reconfigure(),
            },
          ]
        : []),
      {
        name: 'previews',
        keys: ['previews'],
        start: async () => {
          previewTokens.start();
          await hls.start();
          await mjpeg.start();
        },
        stop: async () => {
          await mjpeg.stop();
          await hls.stop();
        },
        reconfigure: () => {}, // the services read this.config.previews on every use
      },
      {
        name: 'relay',
        keys: ['relay'],
        start: () => relay.start(),
        stop: () => relay.stop(),
        reconfigure: () => relay.reconfigure(),
      },
      ...(peers
        ? [
            {
              name: 'peers',
              keys: ['master'],
              start: () => peers.start(),
              stop: () => peers.stop(),
              reconfigure: () => peers.reconfigure(),
            },
          ]
        : []),
      { name: 'api', keys: ['api'], start: () => api.start(), stop: () => api.stop() },
    ];
  }
}

/** The ffmpeg path, resolved (which runs `ffmpeg -version`, synchronously) once per configured value. */
function ffmpegOnce(configured: () => string | undefined): () => string {
  let memo: { configured: string | undefined; path: string } | null = null;
  return () => {
    const want = configured();
    const hit = memo?.configured === want ? memo : null;
    if (hit) return hit.path;
    const path = resolveFfmpeg({ configured: want }).path;
    memo = { configured: want, path };
    return path;
  };
}

/** Creates a core from a loaded config (or a bare validated config, as the Electron shell may pass). */
export function createCore(loaded: LoadedConfig | Config, options?: CoreOptions): Core {
  const full: LoadedConfig =
    'fileValues' in loaded
      ? loaded
      : {
          config: loaded,
          file: join(loaded.dataDir, 'cupola.yaml'),
          fileValues: {},
          pinned: new Map(),
          overrides: new Map(),
        };
  return new Core(full, options);
}
