/**
 * The `relay` section of the config schema: the SSE endpoint of the control server that pushes stream URLs, the
 * probe and switch timings, and the retention limits of the relay's tables. Part of schema.ts; it imports nothing
 * from it, because schema.ts imports this file.
 */
import { z } from 'zod';

const SLUG_RULE = 'expected 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit';

function int(def: number, min: number, max: number, unit: string, description: string) {
  const rule = `expected integer ${unit}${min}-${max}`;
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule }).default(def).meta({ description });
}

const ms = (def: number, min: number, max: number, description: string) =>
  int(def, min, max, 'milliseconds ', description);
const rows = (def: number, description: string) => int(def, 100, 10_000_000, 'rows ', description);

/** The `relay` section. */
export const relaySchema = z
  .strictObject({
    sse: z
      .strictObject({
        url: z
          .url({ protocol: /^https?$/, error: 'expected the http(s) URL of an SSE endpoint' })
          .optional()
          .meta({ description: 'SSE endpoint of the control server that pushes url_update events; unset: no client.' }),
        authHeaderName: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'expected an HTTP header name' })
          .default('authorization')
          .meta({ description: 'Name of the header that carries relay.sse.authHeader.' }),
        authHeader: z
          .string()
          .min(1)
          .max(4096)
          .refine((v) => /^[\x20-\x7e]+$/.test(v), { error: 'expected printable ASCII' })
          .optional()
          .meta({
            description: 'Value of the auth header sent to the SSE endpoint (e.g. "Bearer abc"); unset: none.',
            secret: true,
          }),
        defaultStreamId: z
          .string({ error: SLUG_RULE })
          .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: SLUG_RULE })
          .default('default')
          .meta({ description: 'Relay stream a url_update without stream_id applies to (also the seed routes).' }),
        heartbeatTimeoutMs: ms(
          45_000,
          500,
          600_000,
          'An SSE connection silent this long (no event, no comment) is dropped and reopened.',
        ),
        reconnectInitialMs: ms(1000, 100, 60_000, 'First delay before reconnecting to the SSE endpoint.'),
        reconnectMaxMs: ms(30_000, 100, 600_000, 'Longest delay between SSE reconnection attempts.'),
        maxEventBytes: int(
          64 * 1024,
          1024,
          1024 * 1024,
          'bytes ',
          'Larger SSE events (or lines) are refused and skipped.',
        ),
      })
      .prefault({}),
    probeBeforeSwitch: z.boolean().default(true).meta({
      description: 'Probe a new RTSP source with ffprobe (5 s timeout) before switching a running job to it.',
    }),
    switchTimeoutMs: ms(
      15_000,
      1000,
      120_000,
      'How long a new job may take to produce before a switch is given up (make-before-break keeps the old one).',
    ),
    retention: z
      .strictObject({
        logRows: rows(20_000, 'Rows kept in stream_logs (oldest deleted first).'),
        eventRows: rows(10_000, 'Rows kept in sse_events (oldest deleted first).'),
        historyRows: rows(5000, 'Rows kept in url_history (oldest deleted first).'),
      })
      .prefault({}),
  })
  .prefault({});

/** The validated `relay` section. */
export type RelayConfig = z.output<typeof relaySchema>;
