/**
 * The `compressor` section of the config schema: the slaves to pull F1 from, the encoding presets (built-ins merged
 * with the user's), which preset each camera uses, and the hardware-encoder switch. Part of schema.ts; it imports
 * nothing from it, because schema.ts imports this file.
 */
import { z } from 'zod';

const NAME_RULE = 'expected 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit';
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const SPEEDS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;
const X264_TUNES = ['film', 'animation', 'grain', 'stillimage', 'fastdecode', 'zerolatency', 'psnr', 'ssim'] as const;
const X265_TUNES = ['animation', 'grain', 'fastdecode', 'zerolatency', 'psnr', 'ssim'];

const oneOf = (values: readonly string[]) => `expected one of ${values.join(', ')}`;
const RULES = {
  codec: oneOf(['h264', 'hevc', 'copy']),
  height: 'expected an even integer 144-2160',
  fps: 'expected an integer 1-60',
  kbps: 'expected an integer kbit/s 50-50000',
  crf: 'expected a number 0-51',
  gopSeconds: 'expected seconds 0.5-10',
  bframes: 'expected an integer 0-16',
  audioKbps: 'expected an integer kbit/s 16-320',
  rateChoice: 'expected exactly one of bitrateKbps or crf',
};

function int(min: number, max: number, rule: string) {
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
}

/** A preset as written: every field optional, so that the rules below can tell "absent" from "defaulted". */
const presetInput = z.strictObject(
  {
    codec: z.enum(['h264', 'hevc', 'copy'], { error: RULES.codec }).optional(),
    height: int(144, 2160, RULES.height)
      .refine((h) => h % 2 === 0, { error: RULES.height })
      .optional(),
    fps: int(1, 60, RULES.fps).optional(),
    bitrateKbps: int(50, 50_000, RULES.kbps).optional(),
    crf: z.number({ error: RULES.crf }).min(0, { error: RULES.crf }).max(51, { error: RULES.crf }).optional(),
    maxrateKbps: int(50, 50_000, RULES.kbps).optional(),
    bufsizeKbps: int(50, 100_000, 'expected an integer kbit 50-100000').optional(),
    gopSeconds: z
      .number({ error: RULES.gopSeconds })
      .min(0.5, { error: RULES.gopSeconds })
      .max(10, { error: RULES.gopSeconds })
      .optional(),
    speed: z.enum(SPEEDS, { error: oneOf(SPEEDS) }).optional(),
    tune: z.enum(X264_TUNES, { error: oneOf(X264_TUNES) }).optional(),
    bframes: int(0, 16, RULES.bframes).optional(),
    hardware: z.enum(['prefer', 'never'], { error: oneOf(['prefer', 'never']) }).optional(),
    audio: z.enum(['copy', 'aac', 'drop'], { error: oneOf(['copy', 'aac', 'drop']) }).optional(),
    audioBitrateKbps: int(16, 320, RULES.audioKbps).optional(),
  },
  { error: 'expected a preset such as { height: 480, fps: 15, bitrateKbps: 600 } or { codec: copy }' },
);
type PresetInput = z.output<typeof presetInput>;

/** A preset that re-encodes video, with every default filled in. */
export interface EncodePreset {
  codec: 'h264' | 'hevc';
  /** Output height; the width follows the source's aspect ratio, rounded to even. */
  height: number;
  fps: number;
  /** Exactly one of bitrateKbps (average bitrate) and crf (constant quality) is set. */
  bitrateKbps?: number;
  crf?: number;
  maxrateKbps?: number;
  /** Set whenever maxrateKbps is (defaults to it: a one-second rate-control buffer). */
  bufsizeKbps?: number;
  gopSeconds: number;
  speed: (typeof SPEEDS)[number];
  tune?: (typeof X264_TUNES)[number];
  bframes: number;
  hardware: 'prefer' | 'never';
  audio: 'copy' | 'aac' | 'drop';
  audioBitrateKbps: number;
}

/** A preset that passes the camera's video through unchanged. */
export interface CopyPreset {
  codec: 'copy';
  audio: 'copy' | 'drop';
}

/** A validated preset. */
export type Preset = EncodePreset | CopyPreset;

const COPY_RULE = 'not allowed: a copy preset passes the stream through without encoding options';

type Ctx = z.core.$RefinementCtx<PresetInput>;

function issue(ctx: Ctx, field: string, message: string, input: unknown): void {
  // `input` is always passed: left out, zod reports the whole preset as the value ("got {...}").
  ctx.addIssue({ code: 'custom', path: [field], message, input });
}

function checkCopy(p: PresetInput, ctx: Ctx): void {
  for (const [field, value] of Object.entries(p)) {
    if (field === 'codec' || value === undefined) continue;
    if (field === 'audio' && value !== 'aac') continue;
    const why = field === 'audio' ? 'expected copy or drop: a copy preset does not encode' : COPY_RULE;
    issue(ctx, field, why, value);
  }
}

function checkEncode(p: PresetInput, ctx: Ctx): void {
  if (p.height === undefined) issue(ctx, 'height', RULES.height, undefined);
  if (p.fps === undefined) issue(ctx, 'fps', RULES.fps, undefined);
  if (p.bitrateKbps === undefined && p.crf === undefined) issue(ctx, 'bitrateKbps', RULES.rateChoice, undefined);
  if (p.bitrateKbps !== undefined && p.crf !== undefined) issue(ctx, 'crf', RULES.rateChoice, p.crf);
  if (p.maxrateKbps !== undefined && p.bitrateKbps !== undefined && p.maxrateKbps < p.bitrateKbps)
    issue(ctx, 'maxrateKbps', `expected at least bitrateKbps (${p.bitrateKbps})`, p.maxrateKbps);
  if (p.bufsizeKbps !== undefined && p.maxrateKbps === undefined)
    issue(ctx, 'bufsizeKbps', 'expected only together with maxrateKbps', p.bufsizeKbps);
  if (p.audioBitrateKbps !== undefined && p.audio !== 'aac')
    issue(ctx, 'audioBitrateKbps', 'expected only with audio: aac', p.audioBitrateKbps);
  if (p.codec === 'hevc' && p.tune !== undefined && !X265_TUNES.includes(p.tune))
    issue(ctx, 'tune', `${oneOf(X265_TUNES)} for hevc`, p.tune);
  // Keyframes land on whole frames: a GOP of 7.5 frames would drift against the -force_key_frames times.
  const gop = (p.fps ?? 1) * (p.gopSeconds ?? 2);
  if (p.fps !== undefined && Math.abs(gop - Math.round(gop)) > 1e-9) {
    const rule = `expected fps × gopSeconds to be whole frames (${p.fps} × ${p.gopSeconds})`;
    issue(ctx, 'gopSeconds', rule, p.gopSeconds);
  }
}

/** One preset: the field rules, the cross-field rules, then the defaults. */
export const presetSchema = presetInput
  .superRefine((p, ctx) => (p.codec === 'copy' ? checkCopy(p, ctx) : checkEncode(p, ctx)))
  .transform((p): Preset => {
    if (p.codec === 'copy') return { codec: 'copy', audio: p.audio === 'drop' ? 'drop' : 'copy' };
    const { height = 0, fps = 0, gopSeconds = 2, speed = 'veryfast', bframes = 0, hardware = 'never' } = p;
    const { audio = 'copy', audioBitrateKbps = 64 } = p;
    const codec = p.codec ?? 'h264';
    const out: EncodePreset = {
      ...p,
      codec,
      height,
      fps,
      gopSeconds,
      speed,
      bframes,
      hardware,
      audio,
      audioBitrateKbps,
    };
    if (p.maxrateKbps !== undefined) out.bufsizeKbps = p.bufsizeKbps ?? p.maxrateKbps;
    return out;
  });

/**
 * The built-in presets (see app/compressor/README.md for the figures behind them). Present even when the config
 * names none; a user preset of the same name replaces the built-in one as a whole.
 */
export const BUILT_IN_PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  '480p-economy': presetSchema.parse({ height: 480, fps: 15, bitrateKbps: 600, maxrateKbps: 900, bufsizeKbps: 1200 }),
  '720p-standard': presetSchema.parse({
    height: 720,
    fps: 25,
    bitrateKbps: 1200,
    maxrateKbps: 1800,
    bufsizeKbps: 2400,
  }),
  copy: presetSchema.parse({ codec: 'copy' }),
});

const name = (what: string) =>
  z.string({ error: NAME_RULE }).regex(NAME_PATTERN, { error: NAME_RULE }).meta({ description: what });

const slave = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of a slave, such as http://10.0.0.5:8080' }),
  token: z.string({ error: 'expected an API token of that slave (cpt_…)' }).regex(/^cpt_[0-9a-f]{12}_[\w-]{16,}$/, {
    error: 'expected an API token of that slave (cpt_…)',
  }),
  name: name('Label of the slave in logs and the UI.').optional(),
});

/** Adds an issue for each entry of `list` whose URL origin came before (each peer once). */
export function uniqueOrigins(list: Array<{ url: string }>, key: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    const origin = URL.canParse(p.url) ? new URL(p.url).origin : p.url;
    if (seen.has(origin))
      ctx.addIssue({ code: 'custom', path: [key, i, 'url'], message: 'expected each node once', input: p.url });
    seen.add(origin);
  });
}

/** The `compressor` section. */
export const compressorSchema = z
  .strictObject({
    slaves: z.array(slave).default([]).meta({
      description:
        'Slaves whose cameras this node compresses: { url, token, name? }; token is an API token of that slave, used to read F1 and publish F2.',
      secret: true,
    }),
    presets: z
      .record(name('Preset name.'), presetSchema, {
        error: (i) => (i.code === 'invalid_key' ? NAME_RULE : 'expected a mapping of preset name to preset'),
      })
      .optional()
      .transform((user) => ({ ...BUILT_IN_PRESETS, ...user }))
      .meta({
        description:
          'Encoding presets by name: { codec?, height, fps, bitrateKbps | crf, maxrateKbps?, bufsizeKbps?, gopSeconds?, speed?, tune?, bframes?, hardware?, audio?, audioBitrateKbps? } or { codec: copy }. Merged over the built-in 480p-economy, 720p-standard and copy.',
      }),
    defaultPreset: z
      .string({ error: 'expected a preset name' })
      .default('480p-economy')
      .meta({ description: 'Preset for cameras not listed in compressor.cameraPresets.' }),
    cameraPresets: z
      .record(name('Camera id.'), z.string({ error: 'expected a preset name' }), {
        error: (i) => (i.code === 'invalid_key' ? NAME_RULE : 'expected a mapping of camera id to preset name'),
      })
      .default({})
      .meta({ description: 'Preset per camera id, overriding compressor.defaultPreset.' }),
    maxJobs: int(1, 256, 'expected an integer 1-256')
      .default(16)
      .meta({ description: 'Most transcoding jobs this node runs at once.' }),
    hardware: z
      .enum(['auto', 'off'], { error: oneOf(['auto', 'off']) })
      .default('auto')
      .meta({
        description:
          'auto: probe hardware encoders at start and use them for presets with hardware: prefer; off: never.',
        requiresRestart: true,
      }),
  })
  .superRefine((c, ctx) => {
    // This also runs when a preset broke one of its own rules (those issues do not abort): then `presets` is still
    // the user's record, not yet merged, and the other fields may hold invalid values.
    const known = Object.keys({ ...BUILT_IN_PRESETS, ...c.presets });
    const rule = `expected one of the presets ${known.join(', ')}`;
    if (!known.includes(c.defaultPreset))
      ctx.addIssue({ code: 'custom', path: ['defaultPreset'], message: rule, input: c.defaultPreset });
    for (const [camera, preset] of Object.entries(c.cameraPresets)) {
      if (!known.includes(preset))
        ctx.addIssue({ code: 'custom', path: ['cameraPresets', camera], message: rule, input: preset });
    }
    uniqueOrigins(c.slaves, 'slaves', ctx);
  })
  .prefault({});

/** The validated `compressor` section. */
export type CompressorConfig = z.output<typeof compressorSchema>;
