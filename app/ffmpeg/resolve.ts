/** Finds the ffmpeg and ffprobe binaries to use and proves they run. */
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { findExecutable, runProbe } from '../supervisor/probe.js';

/** Where a binary was found. */
export type BinarySource = 'config' | 'env' | 'ffmpeg-static' | 'path' | 'beside-ffmpeg';

/** A binary that ran `-version` successfully. */
export interface ResolvedBinary {
  path: string;
  source: BinarySource;
  /** The version word of `-version` (e.g. `5.1.9-0+deb12u1`, `N-112233-gabcdef`). */
  version: string;
}

/** One candidate that was tried and failed. */
export interface ResolveAttempt {
  source: BinarySource;
  /** The path tried, or a description when there was none (e.g. "not installed"). */
  candidate: string;
  error: string;
}

/** Inputs of resolveFfmpeg. */
export interface ResolveFfmpegOptions {
  /** `ffmpeg.path` from the config. */
  configured?: string;
  /** Defaults to process.env; FFMPEG_PATH and PATH are read from it. */
  env?: NodeJS.ProcessEnv;
}

/** Inputs of resolveFfprobe. */
export interface ResolveFfprobeOptions {
  /** The resolved ffmpeg: an ffprobe next to it is preferred, so both come from the same build. */
  ffmpegPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** No usable binary was found; the message lists what was tried and how to fix it. */
export class BinaryNotFoundError extends Error {
  constructor(
    readonly binary: 'ffmpeg' | 'ffprobe',
    readonly tried: readonly ResolveAttempt[],
    hint: string,
  ) {
    const lines = tried.map((t) => `  - ${SOURCE_LABEL[t.source]}: ${t.candidate}: ${t.error}`);
    super([`no usable ${binary} found. Tried:`, ...lines, hint].join('\n'));
    this.name = 'BinaryNotFoundError';
  }
}

const SOURCE_LABEL: Record<BinarySource, string> = {
  config: 'config ffmpeg.path',
  env: 'FFMPEG_PATH',
  'ffmpeg-static': 'ffmpeg-static',
  path: 'PATH',
  'beside-ffmpeg': 'next to ffmpeg',
};
const EXE = process.platform === 'win32' ? '.exe' : '';
const INSTALL_HINT = 'Install it (Debian/Ubuntu: sudo apt-get install ffmpeg) or set FFMPEG_PATH to an ffmpeg binary.';

/**
 * Resolves ffmpeg: `configured` (config ffmpeg.path), then FFMPEG_PATH, then the optional ffmpeg-static package,
 * then `ffmpeg` on PATH. An explicit choice (config or FFMPEG_PATH) that does not run is an error, not a fall-through:
 * the operator asked for that build (e.g. one with NVENC), and silently using another would fail later and obscurely.
 * Each candidate runs `-version` synchronously; call it once at start-up.
 */
export function resolveFfmpeg(opts: ResolveFfmpegOptions = {}): ResolvedBinary {
  const env = opts.env ?? process.env;
  const tried: ResolveAttempt[] = [];
  if (opts.configured) {
    return probeOrThrow(
      'ffmpeg',
      'config',
      opts.configured,
      env,
      tried,
      'Fix ffmpeg.path in the config, or remove it to use FFMPEG_PATH, ffmpeg-static or ffmpeg on PATH.',
    );
  }
  if (env.FFMPEG_PATH) {
    return probeOrThrow(
      'ffmpeg',
      'env',
      env.FFMPEG_PATH,
      env,
      tried,
      'Fix FFMPEG_PATH, or unset it to use ffmpeg-static or ffmpeg on PATH.',
    );
  }
  const fromPackage = loadFfmpegStatic();
  if (fromPackage) {
    const found = probe('ffmpeg', 'ffmpeg-static', fromPackage, env, tried);
    if (found) return found;
  } else {
    tried.push({ source: 'ffmpeg-static', candidate: 'package', error: 'not installed (optional dependency)' });
  }
  const onPath = findOnPath('ffmpeg', env, tried);
  const found = onPath && probe('ffmpeg', 'path', onPath, env, tried);
  if (found) return found;
  throw new BinaryNotFoundError('ffmpeg', tried, INSTALL_HINT);
}

/** Resolves ffprobe: next to the resolved ffmpeg first, then `ffprobe` on PATH. */
export function resolveFfprobe(opts: ResolveFfprobeOptions = {}): ResolvedBinary {
  const env = opts.env ?? process.env;
  const tried: ResolveAttempt[] = [];
  if (opts.ffmpegPath) {
    const found = probe('ffprobe', 'beside-ffmpeg', join(dirname(opts.ffmpegPath), `ffprobe${EXE}`), env, tried);
    if (found) return found;
  }
  const onPath = findOnPath('ffprobe', env, tried);
  const found = onPath && probe('ffprobe', 'path', onPath, env, tried);
  if (found) return found;
  throw new BinaryNotFoundError(
    'ffprobe',
    tried,
    'Install it (Debian/Ubuntu: sudo apt-get install ffmpeg, which ships ffprobe), or put ffprobe next to ffmpeg.',
  );
}

/** The binary path exported by the optional ffmpeg-static package, or undefined when it is not installed. */
export function loadFfmpegStatic(): string | undefined {
  try {
    const path: unknown = createRequire(import.meta.url)('ffmpeg-static');
    if (typeof path !== 'string' || !path) return undefined; // null when the package has no binary for this platform
    // Inside a packaged Electron app the binary must be executed from the unpacked copy, not from the asar archive.
    return path.replace(`app.asar${sep}`, `app.asar.unpacked${sep}`);
  } catch {
    return undefined;
  }
}

/** Extracts the version word from `-version` output, or undefined when it is not ffmpeg/ffprobe output. */
export function parseVersion(binary: 'ffmpeg' | 'ffprobe', stdout: string): string | undefined {
  return stdout.match(new RegExp(`^${binary} version (\\S+)`, 'm'))?.[1];
}

function findOnPath(binary: 'ffmpeg' | 'ffprobe', env: NodeJS.ProcessEnv, tried: ResolveAttempt[]): string | undefined {
  const found = findExecutable(`${binary}${EXE}`, env);
  if (!found)
    tried.push({ source: 'path', candidate: env.PATH || '(empty)', error: `no ${binary} in any of these directories` });
  return found;
}

function probe(
  binary: 'ffmpeg' | 'ffprobe',
  source: BinarySource,
  path: string,
  env: NodeJS.ProcessEnv,
  tried: ResolveAttempt[],
): ResolvedBinary | undefined {
  const result = runProbe(path, ['-version'], { env });
  if (!result.ok) {
    tried.push({ source, candidate: path, error: result.error });
    return undefined;
  }
  const version = parseVersion(binary, result.stdout);
  if (!version) {
    tried.push({ source, candidate: path, error: `runs, but its -version output is not ${binary}'s` });
    return undefined;
  }
  return { path, source, version };
}

function probeOrThrow(
  binary: 'ffmpeg' | 'ffprobe',
  source: BinarySource,
  path: string,
  env: NodeJS.ProcessEnv,
  tried: ResolveAttempt[],
  hint: string,
): ResolvedBinary {
  const found = probe(binary, source, path, env, tried);
  if (found) return found;
  throw new BinaryNotFoundError(binary, tried, hint);
}
