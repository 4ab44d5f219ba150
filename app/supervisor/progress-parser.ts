/** Parser of ffmpeg's `-progress` output: `key=value` lines, one block per report, closed by `progress=...`. */
import type { ChildProgress } from '../defs/child.js';

/** Accumulates `key=value` lines and yields a ChildProgress each time a block ends. */
export class ProgressParser {
  private block = new Map<string, string>();

  /** Feeds one line; returns the parsed block when this line closed it, otherwise undefined. */
  push(line: string): ChildProgress | undefined {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    this.block.set(key, value);
    if (key !== 'progress') return undefined;
    const parsed = parseProgressBlock(this.block);
    this.block = new Map();
    return parsed;
  }
}

/** Turns one complete block into a ChildProgress; `N/A` and nonsense values become undefined. */
export function parseProgressBlock(block: ReadonlyMap<string, string>): ChildProgress {
  const p: ChildProgress = {};
  set(p, 'frame', int(block.get('frame')));
  set(p, 'fps', num(block.get('fps')));
  set(p, 'bitrateKbps', num(stripSuffix(block.get('bitrate'), 'kbits/s')));
  set(p, 'speed', num(stripSuffix(block.get('speed'), 'x')));
  set(p, 'outTimeMs', outTimeMs(block));
  set(p, 'totalSizeBytes', int(block.get('total_size')));
  set(p, 'dropFrames', int(block.get('drop_frames')));
  set(p, 'dupFrames', int(block.get('dup_frames')));
  const state = block.get('progress');
  if (state === 'continue' || state === 'end') p.state = state;
  return p;
}

/** Parses `HH:MM:SS.micro` (ffmpeg's `out_time`) into milliseconds. */
export function parseClock(value: string | undefined): number | undefined {
  const m = value?.match(/^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/);
  if (!m) return undefined;
  return Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000);
}

function outTimeMs(block: ReadonlyMap<string, string>): number | undefined {
  // out_time_us is exact; out_time_ms is also microseconds (a long-standing ffmpeg quirk), so it is ignored.
  const us = int(block.get('out_time_us'));
  // Before the first packet ffmpeg prints a huge negative time; it means "unknown", not a time.
  if (us !== undefined) return us >= 0 ? Math.round(us / 1000) : undefined;
  return parseClock(block.get('out_time'));
}

function stripSuffix(value: string | undefined, suffix: string): string | undefined {
  return value?.endsWith(suffix) ? value.slice(0, -suffix.length) : value;
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === 'N/A') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function int(value: string | undefined): number | undefined {
  const n = num(value);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

function set<K extends keyof ChildProgress>(p: ChildProgress, key: K, value: ChildProgress[K] | undefined): void {
  if (value !== undefined) p[key] = value;
}
