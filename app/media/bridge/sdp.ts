/**
 * The SDP (RFC 4566) a bridged stream is published with. Track 0 is H.264 (RFC 6184 8.1), track 1 AAC when present
 * (RFC 3640 4.1). The RTSP server rewrites the control attributes for readers; they are set the same way here so
 * that the description also reads right on its own.
 */
import type { AacConfig } from './flv-tags.js';
import { AAC_HBR_FMTP } from './aac-packetizer.js';
import type { ParameterSets } from './h264-packetizer.js';
import { profileLevelId } from '../codec/h264-sps.js';

/** Payload types of the two tracks (dynamic range, as every RTSP source uses them). */
export const VIDEO_PT = 96;
export const AUDIO_PT = 97;

/** What goes into a bridged stream's SDP. */
export interface BridgeSdpInput {
  /** `s=` line: the stream path, for humans reading a DESCRIBE. */
  name: string;
  /** `o=` session id and version: the version grows on every re-publish of the same bridge (RFC 4566 5.2). */
  sessionId: number;
  sessionVersion: number;
  video: ParameterSets;
  audio?: AacConfig;
}

/** The H.264 fmtp value: packetization mode 1, the SPS's profile-level-id, and every SPS and PPS in base64. */
export function h264Fmtp(sets: ParameterSets): string {
  const sprop = [...sets.sps, ...sets.pps].map((nal) => nal.toString('base64')).join(',');
  const first = sets.sps[0];
  const level = first ? `;profile-level-id=${profileLevelId(first)}` : '';
  return `packetization-mode=1${level};sprop-parameter-sets=${sprop}`;
}

/** The AAC fmtp value: the AAC-hbr layout of AacPacketizer plus the AudioSpecificConfig in hex. */
export function aacFmtp(config: AacConfig): string {
  return `${AAC_HBR_FMTP};config=${config.asc.toString('hex')}`;
}

/** Builds the SDP text (CRLF line ends). */
export function buildSdp(input: BridgeSdpInput): string {
  // Keep the name within what an SDP line may hold: no line breaks, nothing that could start a new field.
  const name = input.name.replace(/[^\x20-\x7e]/g, '_') || '-';
  const lines = [
    'v=0',
    `o=- ${input.sessionId} ${input.sessionVersion} IN IP4 127.0.0.1`,
    `s=${name}`,
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'a=tool:cupola flv bridge',
    'a=control:*',
    `m=video 0 RTP/AVP ${VIDEO_PT}`,
    `a=rtpmap:${VIDEO_PT} H264/90000`,
    `a=fmtp:${VIDEO_PT} ${h264Fmtp(input.video)}`,
    'a=control:trackID=0',
  ];
  if (input.audio) {
    const { sampleRate, channels } = input.audio;
    // RFC 3640 allows the channel count to be omitted; it is unknown when a program config element defines it.
    const rtpmap = channels > 0 ? `${sampleRate}/${channels}` : `${sampleRate}`;
    lines.push(
      `m=audio 0 RTP/AVP ${AUDIO_PT}`,
      `a=rtpmap:${AUDIO_PT} MPEG4-GENERIC/${rtpmap}`,
      `a=fmtp:${AUDIO_PT} ${aacFmtp(input.audio)}`,
      'a=control:trackID=1',
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
