/**
 * FLV tag bodies as RTMP delivers them (FLV spec v10.1 E.4.2/E.4.3, ISO 14496-15 5.2.4.1, ISO 14496-3 1.6.2.1):
 * H.264 and AAC only. Every function returns a typed result for anything else or anything malformed and never
 * throws, because its input comes straight off a camera's socket.
 */

/** FLV tag types (the first byte of an FLV tag header, and the RTMP message type). */
export const TAG_AUDIO = 8;
export const TAG_VIDEO = 9;
export const TAG_SCRIPT = 18;

/** H.264 decoder configuration from an AVCDecoderConfigurationRecord. */
export interface AvcConfig {
  /** Bytes of each NAL length prefix in the frames that follow (1, 2 or 4). */
  lengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
}

/** AAC configuration from an AudioSpecificConfig. */
export interface AacConfig {
  /** The AudioSpecificConfig itself (for `config=` in the SDP). */
  asc: Buffer;
  objectType: number;
  sampleRate: number;
  /** 0 when the channel layout is given by a program config element (not parsed). */
  channels: number;
  /** Samples per frame at `sampleRate`: 1024 (960 with frameLengthFlag), doubled by explicit SBR signalling. */
  frameSamples: number;
  /** `mp4a.40.N` (RFC 6381). */
  codec: string;
}

/** One parsed tag body. `ignored` = normal but of no use to the bridge (metadata, command frames). */
export type FlvTag =
  | { kind: 'avc-config'; config: AvcConfig }
  | { kind: 'avc-frame'; keyframe: boolean; cts: number; data: Buffer }
  | { kind: 'avc-end' }
  | { kind: 'aac-config'; config: AacConfig }
  | { kind: 'aac-frame'; data: Buffer }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unsupported'; reason: string }
  | { kind: 'invalid'; reason: string };

const VIDEO_CODECS: Record<number, string> = {
  1: 'JPEG',
  2: 'Sorenson H.263',
  3: 'Screen video',
  4: 'VP6',
  5: 'VP6 alpha',
  6: 'Screen video v2',
  12: 'HEVC (non-standard codec id 12)',
  13: 'AV1 (non-standard codec id 13)',
};
const AUDIO_CODECS: Record<number, string> = {
  0: 'LPCM',
  1: 'ADPCM',
  2: 'MP3',
  3: 'LPCM little-endian',
  4: 'Nellymoser 16 kHz',
  5: 'Nellymoser 8 kHz',
  6: 'Nellymoser',
  7: 'G.711 A-law',
  8: 'G.711 mu-law',
  11: 'Speex',
  13: 'Opus (non-standard sound format 13)',
  14: 'MP3 8 kHz',
  15: 'device-specific',
};
/** ISO 14496-3 Table 1.16 (indexes 13 and 14 are reserved). */
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** channelConfiguration → channels (ISO 14496-3 Table 1.19; 7 is 7.1, 11-14 from later amendments). */
const CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0];

/** Parses the body of one tag of type `type` (8 audio, 9 video, 18 script). */
export function parseFlvTag(type: number, body: Buffer): FlvTag {
  if (type === TAG_VIDEO) return parseVideo(body);
  if (type === TAG_AUDIO) return parseAudio(body);
  if (type === TAG_SCRIPT) return { kind: 'ignored', reason: 'script data' };
  return { kind: 'invalid', reason: `unknown tag type ${type}` };
}

function parseVideo(body: Buffer): FlvTag {
  if (body.length < 1) return { kind: 'invalid', reason: 'empty video tag' };
  const b0 = body[0]!;
  if (b0 & 0x80) {
    // Enhanced RTMP (v1/v2): IsExHeader, then a FourCC such as hvc1, av01, vp09.
    const fourcc = body.length >= 5 ? body.toString('latin1', 1, 5) : '?';
    return { kind: 'unsupported', reason: `enhanced RTMP video (${fourcc})` };
  }
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  if (codecId !== 7) return { kind: 'unsupported', reason: `video codec ${VIDEO_CODECS[codecId] ?? codecId}` };
  // Frame type 5 is a video info/command frame (seek markers), not a picture.
  if (frameType === 5) return { kind: 'ignored', reason: 'video command frame' };
  if (body.length < 5) return { kind: 'invalid', reason: 'AVC tag shorter than 5 bytes' };
  const packetType = body[1]!;
  if (packetType === 0) {
    const config = parseAvcConfig(body.subarray(5));
    return 'reason' in config ? { kind: 'invalid', reason: config.reason } : { kind: 'avc-config', config };
  }
  if (packetType === 1) {
    if (body.length === 5) return { kind: 'invalid', reason: 'AVC frame without data' };
    return { kind: 'avc-frame', keyframe: frameType === 1, cts: body.readIntBE(2, 3), data: body.subarray(5) };
  }
  if (packetType === 2) return { kind: 'avc-end' };
  return { kind: 'invalid', reason: `AVCPacketType ${packetType}` };
}

/** Parses an AVCDecoderConfigurationRecord. */
export function parseAvcConfig(rec: Buffer): AvcConfig | { reason: string } {
  if (rec.length < 7) return { reason: 'AVC configuration record too short' };
  if (rec[0] !== 1) return { reason: `AVC configuration version ${rec[0]}` };
  const lengthSize = (rec[4]! & 0x03) + 1;
  if (lengthSize === 3) return { reason: 'NAL length size 3' };
  let at = 6;
  const readSets = (count: number, type: number): Buffer[] | undefined => {
    const out: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (at + 2 > rec.length) return undefined;
      const size = rec.readUInt16BE(at);
      const nal = rec.subarray(at + 2, at + 2 + size);
      at += 2 + size;
      if (size === 0 || nal.length < size || (nal[0]! & 0x1f) !== type) return undefined;
      out.push(Buffer.from(nal));
    }
    return out;
  };
  const sps = readSets(rec[5]! & 0x1f, 7);
  if (!sps || sps.length === 0 || at >= rec.length) return { reason: 'AVC configuration without a valid SPS' };
  const pps = readSets(rec[at++]!, 8);
  if (!pps || pps.length === 0) return { reason: 'AVC configuration without a valid PPS' };
  // Trailing high-profile fields (chroma format, bit depths, SPS extensions) are not needed for RTP.
  return { lengthSize, sps, pps };
}

/** Splits length-prefixed NAL units; undefined when a length runs past the end (a truncated or corrupt frame). */
export function splitNalus(data: Buffer, lengthSize: number): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + lengthSize > data.length) return undefined;
    const size = data.readUIntBE(at, lengthSize);
    at += lengthSize;
    if (at + size > data.length) return undefined;
    // Zero-length NALs occur in some encoders' padding; they carry nothing.
    if (size > 0) out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

function parseAudio(body: Buffer): FlvTag {
  if (body.length < 1) return { kind: 'invalid', reason: 'empty audio tag' };
  const format = body[0]! >> 4;
  if (format === 9) {
    const fourcc = body.length >= 5 ? body.toString('latin1', 1, 5) : '?';
    return { kind: 'unsupported', reason: `enhanced RTMP audio (${fourcc})` };
  }
  if (format !== 10) return { kind: 'unsupported', reason: `audio codec ${AUDIO_CODECS[format] ?? format}` };
  if (body.length < 2) return { kind: 'invalid', reason: 'AAC tag shorter than 2 bytes' };
  if (body[1] === 0) {
    const config = parseAudioSpecificConfig(body.subarray(2));
    return 'reason' in config ? { kind: 'invalid', reason: config.reason } : { kind: 'aac-config', config };
  }
  if (body[1] === 1) {
    if (body.length === 2) return { kind: 'invalid', reason: 'AAC frame without data' };
    return { kind: 'aac-frame', data: body.subarray(2) };
  }
  return { kind: 'invalid', reason: `AACPacketType ${body[1]}` };
}

/** Parses an AudioSpecificConfig (object type, sampling frequency, channels, frame length). */
export function parseAudioSpecificConfig(asc: Buffer): AacConfig | { reason: string } {
  let bit = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = v * 2 + (((asc[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1);
    return v;
  };
  const objectTypeAt = (): number => {
    const t = read(5);
    return t === 31 ? 32 + read(6) : t;
  };
  const rateAt = (): number => {
    const index = read(4);
    return index === 15 ? read(24) : (SAMPLE_RATES[index] ?? 0);
  };
  if (asc.length < 2) return { reason: 'AudioSpecificConfig shorter than 2 bytes' };
  const objectType = objectTypeAt();
  const coreRate = rateAt();
  const channelConfig = read(4);
  let [coreType, sampleRate] = [objectType, coreRate];
  if (objectType === 5 || objectType === 29) {
    // Explicit SBR/PS signalling: the output rate comes next, then the core (AAC LC) object type. RTP counts
    // output samples, so a frame then spans 2048 of them at the (usually doubled) output rate.
    sampleRate = rateAt();
    coreType = objectTypeAt();
  }
  if (bit > asc.length * 8) return { reason: 'AudioSpecificConfig truncated' };
  if (objectType === 0 || coreRate === 0 || sampleRate === 0) return { reason: 'AudioSpecificConfig without a rate' };
  // GASpecificConfig's frameLengthFlag (AAC Main/LC/SSR/LTP/scalable, ER variants): 960-sample frames.
  const ga = [1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23].includes(coreType);
  const coreSamples = ga && bit < asc.length * 8 && read(1) === 1 ? 960 : 1024;
  const ratio = sampleRate / coreRate;
  const frameSamples = Number.isInteger(ratio) && ratio <= 2 ? coreSamples * ratio : coreSamples;
  return {
    asc: Buffer.from(asc),
    objectType,
    sampleRate,
    channels: CHANNELS[channelConfig] ?? 0,
    frameSamples,
    codec: `mp4a.40.${objectType}`,
  };
}
