/**
 * Which H.264/HEVC encoders this ffmpeg can really use. A hardware encoder in `-encoders` only means the build has
 * it; whether the GPU, driver and device are there shows only when it opens, so each one gets a one-second trial
 * encode with the same device set-up a job would use (hwInitArgs, hwUploadFilter).
 */
import { runOneShot, type ProbeResult } from '../supervisor/probe.js';

/** The hardware encoder families Cupola knows how to drive. */
export const HW_FAMILIES = ['nvenc', 'qsv', 'vaapi', 'videotoolbox', 'amf'] as const;
/** One of HW_FAMILIES. */
export type HwFamily = (typeof HW_FAMILIES)[number];

/** The software encoders a preset can use. */
export const SOFTWARE_ENCODERS = ['libx264', 'libx265'] as const;

/** One hardware encoder the build lists, and whether it opened here. */
export interface HardwareEncoder {
  name: string;
  codec: 'h264' | 'hevc';
  usable: boolean;
  /** Why it is not usable (from the trial encode), absent when usable. */
  reason?: string;
}

/** The probe's result, as the API shows it. */
export interface EncoderReport {
  /** Software encoders that are listed and passed the trial. */
  software: string[];
  hardware: HardwareEncoder[];
}

/** Runs one short ffmpeg command; injectable so that tests can feed listings and trial outcomes. */
export type OneShotRunner = (command: string, args: readonly string[], timeoutMs: number) => Promise<ProbeResult>;

/** Inputs of probeEncoders. */
export interface ProbeEncodersOptions {
  ffmpegPath: string;
  run?: OneShotRunner;
  /** false (config `compressor.hardware: off`): list hardware encoders but do not try them. */
  hardware?: boolean;
  /** Per trial encode; default 10 s (a first CUDA context can take a few seconds). */
  trialTimeoutMs?: number;
  /** Trial encodes at once; default 2 (each may take a GPU session or a CPU core). */
  parallel?: number;
}

/** The DRM render node VAAPI encoders use. */
export const VAAPI_DEVICE = '/dev/dri/renderD128';
const HW_NAME = /^(h264|hevc)_(nvenc|qsv|vaapi|videotoolbox|amf)$/;

/** The family of a hardware encoder name (`h264_nvenc` → `nvenc`), or undefined for a software one. */
export function hwFamily(encoder: string): HwFamily | undefined {
  return HW_NAME.exec(encoder)?.[2] as HwFamily | undefined;
}

/** Global options a hardware family needs before the input (device set-up). */
export function hwInitArgs(family: HwFamily | undefined): string[] {
  if (family === 'vaapi') return ['-vaapi_device', VAAPI_DEVICE];
  if (family === 'qsv') return ['-init_hw_device', 'qsv=hw'];
  return [];
}

/**
 * The filter that ends the video chain for an encoder: the pixel format it takes, uploaded to the device for VAAPI
 * (which only accepts GPU frames). The others take frames from system memory.
 */
export function hwUploadFilter(family: HwFamily | undefined): string {
  if (family === 'vaapi') return 'format=nv12,hwupload';
  if (family === 'qsv') return 'format=nv12';
  return 'format=yuv420p';
}

/** Video encoder names from `ffmpeg -hide_banner -encoders` output. */
export function parseEncoderList(stdout: string): string[] {
  const names: string[] = [];
  let inTable = false;
  for (const line of stdout.split('\n')) {
    if (/^\s*-{4,}\s*$/.test(line)) inTable = true;
    const m = inTable ? /^\s*V[A-Z.]{5}\s+(\S+)/.exec(line) : null;
    if (m) names.push(m[1]!);
  }
  return names;
}

/** The trial encode of one encoder: 1 s of testsrc2 at 320x240 through the job's device set-up, to nowhere. */
export function trialArgs(encoder: string): string[] {
  const family = hwFamily(encoder);
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...hwInitArgs(family),
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1'],
    ...['-vf', hwUploadFilter(family), '-c:v', encoder, '-f', 'null', '-'],
  ];
}

/** A failed trial's reason without what varies from run to run (`[h264_nvenc @ 0x55d…]` addresses). */
export function trialReason(error: string): string {
  return error.replace(/\s*@ 0x[0-9a-f]+\]/g, ']').slice(0, 300);
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

const defaultRunner: OneShotRunner = (command, args, timeoutMs) => runOneShot(command, args, { timeoutMs });

/**
 * Lists the encoders and trial-encodes the H.264/HEVC ones (software and hardware). Never throws: an ffmpeg that
 * cannot list encoders yields an empty report (the jobs will then fail visibly through the Supervisor).
 */
export async function probeEncoders(opts: ProbeEncodersOptions): Promise<EncoderReport> {
  const run = opts.run ?? defaultRunner;
  const timeoutMs = opts.trialTimeoutMs ?? 10_000;
  const listing = await run(opts.ffmpegPath, ['-hide_banner', '-nostdin', '-encoders'], timeoutMs);
  const listed = listing.ok ? parseEncoderList(listing.stdout) : [];
  const software = SOFTWARE_ENCODERS.filter((name) => listed.includes(name));
  const hardware = listed.filter((name) => HW_NAME.test(name));
  const trial = async (name: string): Promise<string | undefined> => {
    if (opts.hardware === false && hwFamily(name)) return 'not tried: hardware encoding is off (compressor.hardware)';
    const result = await run(opts.ffmpegPath, trialArgs(name), timeoutMs);
    return result.ok ? undefined : trialReason(result.error);
  };
  const reasons = await mapLimited([...software, ...hardware], opts.parallel ?? 2, trial);
  return {
    software: software.filter((_, i) => reasons[i] === undefined),
    hardware: hardware.map((name, i) => {
      const reason = reasons[software.length + i];
      const codec = name.startsWith('hevc') ? 'hevc' : 'h264';
      return reason === undefined ? { name, codec, usable: true } : { name, codec, usable: false, reason };
    }),
  };
}
