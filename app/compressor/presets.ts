/** Which preset a camera gets, and which encoder a job runs it with (hardware when preferred and usable). */
import type { CompressorConfig, EncodePreset, Preset } from '../config/compressor.js';
import { HW_FAMILIES, hwFamily, type EncoderReport, type HwFamily } from '../ffmpeg/encoders.js';

/** A camera's preset and why it is that one. */
export interface ResolvedPreset {
  name: string;
  preset: Preset;
  /** `camera`: named in compressor.cameraPresets; `default`: compressor.defaultPreset. */
  from: 'camera' | 'default';
}

/** The part of the config presetForCamera reads. */
export type PresetConfig = Pick<CompressorConfig, 'presets' | 'defaultPreset' | 'cameraPresets'>;

/**
 * The preset for `cameraId`: its entry in cameraPresets, else defaultPreset. The config schema guarantees both name
 * existing presets; a config that bypassed it is a programming error, hence the throw.
 */
export function presetForCamera(config: PresetConfig, cameraId: string): ResolvedPreset {
  const own = Object.hasOwn(config.cameraPresets, cameraId) ? config.cameraPresets[cameraId] : undefined;
  const name = own ?? config.defaultPreset;
  const preset = Object.hasOwn(config.presets, name) ? config.presets[name] : undefined;
  if (!preset) throw new Error(`compressor preset ${name} (for camera ${cameraId}) does not exist`);
  return { name, preset, from: own === undefined ? 'default' : 'camera' };
}

/** The encoder a job uses, and a note for the job's status when it is not the one the preset asked for. */
export interface EncoderChoice {
  encoder: string;
  hardware: boolean;
  /** Set when the preset prefers hardware but the job runs in software, saying why. */
  note?: string;
}

/** The software encoder of a codec. */
export function softwareEncoder(codec: EncodePreset['codec']): 'libx264' | 'libx265' {
  return codec === 'hevc' ? 'libx265' : 'libx264';
}

// VideoToolbox has no constant-quality mode that means what crf means (its -q:v is Apple-silicon only and on
// another scale), so a crf preset never goes to it.
function fits(family: HwFamily, preset: EncodePreset): boolean {
  return !(family === 'videotoolbox' && preset.crf !== undefined);
}

/**
 * Picks the encoder for a job: the preset's software encoder unless it prefers hardware and the start-up probe
 * found a usable one for its codec (in HW_FAMILIES order). `failed` holds the hardware encoders that already failed
 * in this job: the job runner restarts the job without them, and the note says so.
 */
export function chooseEncoder(
  preset: EncodePreset,
  report: EncoderReport | undefined,
  failed: ReadonlySet<string> = new Set(),
): EncoderChoice {
  const software = softwareEncoder(preset.codec);
  if (preset.hardware === 'never') return { encoder: software, hardware: false };
  const candidates = (report?.hardware ?? [])
    .filter((h) => h.codec === preset.codec && h.usable && !failed.has(h.name))
    .map((h) => ({ name: h.name, family: hwFamily(h.name)! }))
    .filter((h) => fits(h.family, preset))
    .sort((a, b) => HW_FAMILIES.indexOf(a.family) - HW_FAMILIES.indexOf(b.family));
  const best = candidates[0];
  if (best) return { encoder: best.name, hardware: true };
  if (failed.size > 0)
    return { encoder: software, hardware: false, note: `hardware ${[...failed].join(', ')} failed; using ${software}` };
  const why = report ? `no usable hardware ${preset.codec} encoder` : 'hardware encoders not probed';
  return { encoder: software, hardware: false, note: `${why}; using ${software}` };
}
