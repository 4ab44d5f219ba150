/** Public surface of the FLV→RTP bridge (RTMP publish → RTSP path, in process). */
export { FlvToRtpBridge, type BridgeLog, type FlvToRtpBridgeOptions, type RtpSink } from './flv-bridge.js';
export type { BridgeAudioStats, BridgeState, BridgeStats, BridgeVideoStats } from './bridge-stats.js';
export { TAG_AUDIO, TAG_SCRIPT, TAG_VIDEO } from './flv-tags.js';
