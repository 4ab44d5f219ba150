/**
 * A stream's explicit `ffmpeg_params`: split into argv without a shell (quotes group, nothing is expanded) and
 * checked against an allow-list of codec, filter and rate options. Anything that could name a file, another input,
 * another output or another protocol is refused: the job's only input is its rtsp_url and its only output its
 * rtmp_url, both placed by the job itself.
 */

/** The result of parsing: the argv, or every reason it was refused. */
export type ParamsResult = { ok: true; args: string[] } | { ok: false; errors: string[] };

const MAX_CHARS = 2000;
const MAX_TOKENS = 80;

const NAME = /^[A-Za-z0-9_.-]{1,40}$/;
const NUMBER = /^-?\d{1,9}(\.\d{1,6})?$/;
const BITRATE = /^\d{1,9}(\.\d{1,3})?[kKmM]?$/;
const FRAME_RATE = /^(\d{1,6}(\.\d{1,3})?(\/\d{1,6})?|ntsc|pal|film|ntsc-film)$/;
const SIZE = /^\d{1,5}x\d{1,5}$/;
const ASPECT = /^\d{1,5}([:/]\d{1,5}|\.\d{1,6})?$/;
const KEYFRAMES = /^(expr:[a-z0-9_(),.*+\-/ ]{1,200}|[\d.,]{1,200}|source)$/;
const SYNC = /^(passthrough|cfr|vfr|drop|auto|-?\d)$/;

/** Codecs a job may name: what FLV over RTMP carries (H.264, AAC, MP3) and their hardware encoders. */
const CODECS = new Set([
  'copy',
  'libx264',
  'libopenh264',
  'h264_nvenc',
  'h264_vaapi',
  'h264_qsv',
  'h264_v4l2m2m',
  'h264_videotoolbox',
  'h264_amf',
  'aac',
  'libfdk_aac',
  'libmp3lame',
]);

/** Filters a -vf/-af chain may use: none of them reads or writes a file. */
const FILTERS = new Set([
  'scale',
  'fps',
  'format',
  'crop',
  'pad',
  'transpose',
  'hflip',
  'vflip',
  'rotate',
  'setsar',
  'setdar',
  'setpts',
  'yadif',
  'bwdif',
  'hqdn3d',
  'unsharp',
  'eq',
  'null',
  'hwupload',
  'scale_vaapi',
  'scale_cuda',
  'aresample',
  'aformat',
  'volume',
  'asetpts',
  'anull',
  'pan',
]);

type Check = (value: string) => string | null;

const matches =
  (re: RegExp, what: string): Check =>
  (v) =>
    re.test(v) ? null : `expected ${what}`;
const codec: Check = (v) => (CODECS.has(v) ? null : `expected one of ${[...CODECS].join(', ')}`);

/** Option (without stream specifier) → its value check; null = a flag without a value. */
const OPTIONS: Record<string, Check | null> = {
  c: codec,
  codec: codec,
  vcodec: codec,
  acodec: codec,
  preset: matches(NAME, 'a preset name'),
  tune: matches(NAME, 'a tune name'),
  profile: matches(NAME, 'a profile name'),
  level: matches(/^\d(\.\d)?$/, 'a level such as 4.1'),
  pix_fmt: matches(NAME, 'a pixel format'),
  b: matches(BITRATE, 'a bitrate such as 2500k'),
  maxrate: matches(BITRATE, 'a bitrate such as 2500k'),
  minrate: matches(BITRATE, 'a bitrate such as 2500k'),
  bufsize: matches(BITRATE, 'a size such as 5000k'),
  crf: matches(NUMBER, 'a number'),
  qp: matches(NUMBER, 'a number'),
  q: matches(NUMBER, 'a number'),
  cq: matches(NUMBER, 'a number'),
  global_quality: matches(NUMBER, 'a number'),
  g: matches(NUMBER, 'a number of frames'),
  keyint_min: matches(NUMBER, 'a number of frames'),
  sc_threshold: matches(NUMBER, 'a number'),
  bf: matches(NUMBER, 'a number of frames'),
  refs: matches(NUMBER, 'a number'),
  threads: matches(NUMBER, 'a number of threads'),
  r: matches(FRAME_RATE, 'a frame rate such as 25 or 30000/1001'),
  s: matches(SIZE, 'a size such as 1280x720'),
  aspect: matches(ASPECT, 'an aspect ratio such as 16:9'),
  force_key_frames: matches(KEYFRAMES, 'expr:<expression>, times, or source'),
  fps_mode: matches(SYNC, 'passthrough, cfr, vfr, drop or auto'),
  vsync: matches(SYNC, 'passthrough, cfr, vfr, drop or auto'),
  ar: matches(NUMBER, 'a sample rate'),
  ac: matches(NUMBER, 'a channel count'),
  vf: filterChain,
  af: filterChain,
  filter: filterChain,
  tag: matches(NAME, 'a codec tag'),
  max_muxing_queue_size: matches(NUMBER, 'a number of packets'),
  an: null,
  sn: null,
  dn: null,
};

/** Why the options that matter most are refused, in the words an operator needs. */
const REFUSED: Record<string, string> = {
  i: 'a job has exactly one input, its rtsp_url',
  f: 'the output format is fixed (flv to the rtmp_url)',
  y: 'a job writes no files',
  filter_complex: 'filter graphs can read files and other inputs; use -vf/-af',
  lavfi: 'filter graphs can read files and other inputs; use -vf/-af',
  map: 'the job maps its one input itself',
  progress: 'the Supervisor reads -progress itself',
  report: 'a job writes no files',
  passlogfile: 'a job writes no files',
  pass: 'a job writes no files',
  vstats_file: 'a job writes no files',
  dump_attachment: 'a job writes no files',
  'x264-params': 'encoder parameter strings can name files; use the plain options',
  x264opts: 'encoder parameter strings can name files; use the plain options',
};

const SPECIFIER = /^(?:[vVasdt](?::\d{1,2})?|\d{1,2})$/;

/** Splits `text` like a shell would split words, without any expansion: only '…' and "…" group. */
export function tokenize(text: string): { ok: true; tokens: string[] } | { ok: false; error: string } {
  if (text.length > MAX_CHARS) return { ok: false, error: `longer than ${MAX_CHARS} characters` };
  if (/[\p{Cc}]/u.test(text.replace(/[ \t]/g, ''))) return { ok: false, error: 'contains control characters' };
  const tokens: string[] = [];
  let cur: string | null = null;
  let quote: '"' | "'" | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur ??= '';
    } else if (ch === ' ' || ch === '\t') {
      if (cur !== null) tokens.push(cur);
      cur = null;
    } else cur = (cur ?? '') + ch;
  }
  if (quote) return { ok: false, error: `unbalanced ${quote}` };
  if (cur !== null) tokens.push(cur);
  if (tokens.length > MAX_TOKENS) return { ok: false, error: `more than ${MAX_TOKENS} arguments` };
  return { ok: true, tokens };
}

/** Parses and checks `ffmpeg_params`; errors start with `ffmpeg_params:` and name the offending argument. */
export function parseFfmpegParams(text: string): ParamsResult {
  const split = tokenize(text);
  if (!split.ok) return { ok: false, errors: [`ffmpeg_params: ${split.error}`] };
  const errors: string[] = [];
  const args: string[] = [];
  const tokens = split.tokens;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const m = /^-([a-z_][a-z0-9_-]*)(?::(.+))?$/i.exec(token);
    if (!m) {
      errors.push(`${show(token)} is not allowed: a bare argument would be an output file`);
      continue;
    }
    const [, name = '', spec] = m;
    if (REFUSED[name]) {
      errors.push(`${show(token)} is not allowed: ${REFUSED[name]}`);
      if (i + 1 < tokens.length && !tokens[i + 1]!.startsWith('-')) i++; // its value goes with it
      continue;
    }
    if (!(name in OPTIONS)) {
      errors.push(`${show(token)} is not an allowed option (codec, filter and rate options only)`);
      if (i + 1 < tokens.length && !tokens[i + 1]!.startsWith('-')) i++;
      continue;
    }
    if (spec !== undefined && !SPECIFIER.test(spec)) {
      errors.push(`${show(token)}: ${show(spec)} is not a stream specifier (v, a, v:0...)`);
      continue;
    }
    const check = OPTIONS[name];
    if (check === null || check === undefined) {
      args.push(token);
      continue;
    }
    const value = tokens[i + 1];
    i++;
    if (value === undefined) {
      errors.push(`${show(token)} needs a value`);
      continue;
    }
    const why = /:\/\/|^(file|pipe|concat|subfile|data|fd|tcp|udp|http|https|crypto|cache):/i.test(value)
      ? 'no URLs or protocols'
      : check(value);
    if (why) errors.push(`${show(token)} ${show(value)}: ${why}`);
    else args.push(token, value);
  }
  if (errors.length) return { ok: false, errors: errors.map((e) => `ffmpeg_params: ${e}`) };
  return { ok: true, args };
}

/** Checks a -vf/-af value: a plain chain (no labels, no `;`) of allow-listed filters. */
function filterChain(value: string): string | null {
  if (value.length > 500) return 'a filter chain longer than 500 characters';
  if (/[[\];\\@]/.test(value)) return 'a plain chain of filters (no labels, ";", "\\" or "@")';
  const filters: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === "'") quoted = !quoted;
    if (ch === ',' && !quoted) {
      filters.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) return "unbalanced ' in the filter chain";
  filters.push(cur);
  for (const f of filters) {
    const name = f.split('=')[0]!.trim();
    if (!FILTERS.has(name)) return `filter ${show(name)} is not allowed (allowed: ${[...FILTERS].join(', ')})`;
  }
  return null;
}

function show(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > 60 ? `${printable.slice(0, 60)}...` : printable);
}

/** True when the argv sets the video codec (then the preset's video options are left out). */
export function setsVideoCodec(args: readonly string[]): boolean {
  return args.some((a) => /^-(vcodec|c:v|codec:v)$/.test(a) || a === '-c' || a === '-codec');
}

/** True when the argv sets the audio codec or drops audio. */
export function setsAudioCodec(args: readonly string[]): boolean {
  return args.some((a) => /^-(acodec|c:a|codec:a|an)$/.test(a) || a === '-c' || a === '-codec');
}
