/** The one config schema: defaults, descriptions, which fields need a process restart, which are secret. */
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ROLES } from '../defs/node.js';
import { compressorSchema } from './compressor.js';
import { masterSchema } from './master.js';
import { previewsSchema } from './previews.js';
import { relaySchema } from './relay.js';

/** Metadata every leaf may carry besides its description. */
export interface FieldMeta {
  /** The change only takes effect after the process restarts. */
  requiresRestart?: boolean;
  /** Never printed, logged or returned by the API. */
  secret?: boolean;
}

const PORT_RULE = 'expected integer 1-65535, or 0 for any free port';
const SLUG_RULE = 'expected 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit';

/** A TCP port; 0 picks a free one (tests, and several nodes on one host). */
function port(def: number, description: string, meta: FieldMeta = {}) {
  return z
    .int({ error: PORT_RULE })
    .min(0, { error: PORT_RULE })
    .max(65535, { error: PORT_RULE })
    .default(def)
    .meta({ description, ...meta });
}

function slug() {
  return z.string({ error: SLUG_RULE }).regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: SLUG_RULE });
}

function ms(def: number, min: number, max: number, description: string) {
  const rule = `expected integer milliseconds ${min}-${max}`;
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule }).default(def).meta({ description });
}

function count(def: number, min: number, max: number, description: string) {
  const rule = `expected integer ${min}-${max}`;
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule }).default(def).meta({ description });
}

function seconds(def: number, min: number, max: number, description: string) {
  const rule = `expected integer seconds ${min}-${max}`;
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule }).default(def).meta({ description });
}

/** The platform's data directory for Cupola (XDG on Linux). */
export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'cupola');
}

function defaultNodeName(): string {
  const name = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .replace(/^[-_]+/, '');
  return (name || 'cupola').slice(0, 64);
}

/** The whole configuration. Unknown fields are errors so that a typo never goes unnoticed. */
export const configSchema = z.strictObject({
  node: z
    .strictObject({
      name: slug()
        .default(defaultNodeName)
        .meta({ description: 'Name of this node among its peers (defaults to the host name).' }),
      site: slug()
        .default('default')
        .meta({ description: 'Site this node belongs to; the master groups cameras by site.' }),
      role: z
        .enum(ROLES, { error: `expected one of ${ROLES.join(', ')}` })
        .default('all')
        .meta({
          description: 'Role of this node: slave, compressor, master, or all of them on one box.',
          requiresRestart: true,
        }),
    })
    .prefault({}),
  api: z
    .strictObject({
      host: z
        .string()
        .min(1)
        .default('127.0.0.1')
        .meta({ description: 'Address the HTTP API and UI listen on. Use 0.0.0.0 to reach it from other machines.' }),
      port: port(8080, 'Port of the HTTP API, the UI, SSE and /metrics; 0 picks a free port.'),
      corsOrigins: z
        .array(z.url({ error: 'expected an origin such as https://ops.example.com' }))
        .default([])
        .meta({ description: 'Origins allowed to call the API from a browser. Empty means CORS is closed.' }),
      bodyLimitBytes: z
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024)
        .meta({ description: 'Largest request body accepted; larger bodies get 413.' }),
      rateLimitPerMinute: z
        .int()
        .min(10)
        .max(1_000_000)
        .default(6000)
        .meta({ description: 'Requests per minute per client address before 429.' }),
      eventHistory: z
        .int()
        .min(10)
        .max(100_000)
        .default(1000)
        .meta({ description: 'Events kept for SSE resume with Last-Event-ID.', requiresRestart: true }),
    })
    .prefault({}),
  media: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0').meta({
        description: 'Address the RTMP and RTSP ports listen on (cameras and peers on the network must reach them).',
        requiresRestart: true,
      }),
    })
    .prefault({}),
  rtmp: z.strictObject({ port: port(1935, 'RTMP ingest port (cameras push here); slave role.') }).prefault({}),
  rtsp: z
    .strictObject({
      f1Port: port(8554, 'RTSP port serving F1, the full-quality camera streams.'),
      f2Port: port(8555, 'RTSP port receiving and serving F2, the compressed streams.'),
      publisherGraceS: seconds(
        10,
        0,
        300,
        'Seconds a stream whose publisher left keeps its readers for the publisher to come back (0: close them at once).',
      ),
      maxConnections: count(
        1000,
        10,
        100_000,
        'Connections each RTSP port (F1, F2) accepts in all; more are answered 503 and closed.',
      ),
      maxConnectionsPerIp: count(
        250,
        1,
        100_000,
        'Connections each RTSP port accepts from one address. A compressor or master holds one per camera (two per ' +
          'camera when both run on one host): raise it for sites beyond ~120 cameras.',
      ),
      users: z
        .array(
          z.strictObject({
            user: z
              .string()
              .regex(/^[\w.@-]{1,64}$/, { error: 'expected 1-64 of letters, digits, ".", "@", "-", "_"' }),
            password: z.string().min(8, { error: 'expected at least 8 characters' }),
            read: z.array(z.string().min(1)).default([]),
            publish: z.array(z.string().min(1)).default([]),
          }),
        )
        .default([])
        .meta({
          description:
            'RTSP users besides API tokens: { user, password, read: [paths], publish: [paths] }; "*" matches every path.',
          secret: true,
        }),
    })
    .prefault({}),
  auth: z
    .strictObject({
      adminPassword: z.string().min(8, { error: 'expected at least 8 characters' }).optional().meta({
        description:
          'Sets the admin password at start-up. When unset, one is generated on first start and printed once.',
        secret: true,
      }),
      accessTokenTtlS: seconds(900, 30, 86_400, 'Lifetime of an access token (JWT) in seconds.'),
      refreshTokenTtlS: seconds(14 * 86_400, 300, 365 * 86_400, 'Lifetime of a refresh token in seconds.'),
      loginAttemptsPerMinute: z
        .int()
        .min(1)
        .max(1000)
        .default(10)
        .meta({ description: 'Login attempts per minute per client address before 429.' }),
    })
    .prefault({}),
  dataDir: z
    .string()
    .min(1)
    .default(defaultDataDir)
    .meta({ description: 'Directory for the database, logs and generated secrets.', requiresRestart: true }),
  log: z
    .strictObject({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
        .default('info')
        .meta({ description: 'Lowest level written to stdout and the log file.' }),
      fileMaxBytes: z
        .int()
        .min(64 * 1024)
        .default(10 * 1024 * 1024)
        .meta({ description: 'Size at which the log file in the data dir is rotated.', requiresRestart: true }),
      fileCount: z
        .int()
        .min(1)
        .max(100)
        .default(5)
        .meta({ description: 'Rotated log files kept.', requiresRestart: true }),
    })
    .prefault({}),
  supervisor: z
    .strictObject({
      stallTimeoutMs: ms(5000, 500, 600_000, 'A child whose progress stalls this long is restarted.'),
      backoffInitialMs: ms(1000, 10, 60_000, 'First restart delay after a child exits.'),
      backoffMaxMs: ms(30_000, 100, 600_000, 'Longest restart delay.'),
      healthyAfterMs: ms(60_000, 1000, 3_600_000, 'A child running this long has its backoff reset.'),
      stopTimeoutMs: ms(2000, 100, 60_000, 'Wait after each stop step (q, SIGTERM) before the next one.'),
    })
    .prefault({}),
  ffmpeg: z
    .strictObject({
      path: z
        .string()
        .min(1)
        .optional()
        .meta({ description: 'ffmpeg binary to use. Otherwise FFMPEG_PATH, then ffmpeg-static, then ffmpeg on PATH.' }),
    })
    .prefault({}),
  compressor: compressorSchema,
  master: masterSchema,
  previews: previewsSchema,
  relay: relaySchema,
});

/** The validated configuration. */
export type Config = z.output<typeof configSchema>;
/** The configuration as written in a file (every field optional). */
export type ConfigInput = z.input<typeof configSchema>;
