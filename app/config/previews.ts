/**
 * The `previews` section of the config schema: on-demand HLS and MJPEG previews and their signed links. Part of
 * schema.ts; it imports nothing from it, because schema.ts imports this file.
 */
import { z } from 'zod';

function int(def: number, min: number, max: number, unit: string, description: string) {
  const rule = `expected integer ${unit}${min}-${max}`;
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule }).default(def).meta({ description });
}

const HOLD_BACK_RULE = 'expected seconds 0-30';

/** The `previews` section. */
export const previewsSchema = z
  .strictObject({
    hlsIdleS: int(30, 1, 3600, 'seconds ', 'Seconds an HLS preview muxer keeps running after the last request.'),
    hlsHoldBackS: z
      .number({ error: HOLD_BACK_RULE })
      .min(0, { error: HOLD_BACK_RULE })
      .max(30, { error: HOLD_BACK_RULE })
      .default(1.5)
      .meta({
        description:
          'Seconds behind the live edge HLS players are told to hold (EXT-X-SERVER-CONTROL HOLD-BACK); 0 leaves it to the player (3 segments).',
      }),
    mjpegLingerMs: int(
      3000,
      0,
      60_000,
      'milliseconds ',
      'Milliseconds an MJPEG decoder keeps running after its last viewer left (snapshots reuse it meanwhile).',
    ),
    tokenTtlS: int(
      600,
      10,
      86_400,
      'seconds ',
      'Lifetime (default and maximum) of signed preview links (?t=) minted by POST /api/v1/previews/token.',
    ),
    maxSessions: int(
      8,
      1,
      64,
      '',
      'HLS muxers, and separately MJPEG decoders, running at most; a preview of one more stream gets 503.',
    ),
  })
  .prefault({});
