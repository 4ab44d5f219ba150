/**
 * Narrow shapes of the node-media-server 4.4 internals this folder uses (the package is CommonJS without types).
 * Only what we read or replace is declared; field names are NMS's own. Nothing here leaks into the public API.
 */
import type { Socket } from 'node:net';

/** `core/avpacket.js`: one media or data message. `flags`: 0 audio config, 1 audio, 2 video config, 3 key frame,
 * 4 inter frame, 5 script data, 6 video metadata (set by `protocol/flv.js` parserTag). */
export interface NmsAvPacket {
  codec_id: number;
  codec_type: number;
  flags: number;
  pts: number;
  dts: number;
  size: number;
  /** NMS's parser buffer for this chunk stream: valid for `size` bytes, reused for the next message. */
  data: Buffer;
}

/** The parts of a session `BroadcastServer` touches (`session/base_session.js`). */
export interface NmsSubscriber {
  id: string;
  /** "" marks an internal session: no play events, no auth, no play count (`broadcast_server.js` postPlay). */
  ip: string;
  /** "flv" subscribers get FLV tags, "rtmp" ones RTMP chunks. */
  protocol: string;
  endTime: number;
  sendBuffer(buffer: Buffer): void;
}

/** `server/broadcast_server.js`: one stream path, its publisher and its subscribers. */
export interface NmsBroadcast {
  streamPath: string;
  publisher: NmsSubscriber | null;
  subscribers: Map<string, NmsSubscriber>;
  /** How long a publish outlives its socket (30 s upstream). */
  publishGraceMs: number;
  postPlay(session: NmsSubscriber): string | null;
  donePlay(session: NmsSubscriber): void;
  /** Registers `session` as the publisher; an error message when the path has one. */
  postPublish(session: NmsSubscriber): string | null;
  donePublish(session: NmsSubscriber): void;
  /** Caches (headers, GOP) and sends one packet to every subscriber. */
  broadcastMessage(packet: NmsAvPacket): void;
}

/** `new BroadcastServer(streamPath)`. */
export type NmsBroadcastClass = new (streamPath: string) => NmsBroadcast;

/** A decoded AMF0 command as `protocol/amf.js` decodeAmf0Cmd returns it (every field may be missing or mistyped). */
export interface NmsInvokeMessage {
  cmd?: unknown;
  transId?: unknown;
  cmdObj?: unknown;
  streamName?: unknown;
}

/** `protocol/rtmp.js`: the RTMP protocol state of one connection. */
export interface NmsRtmp {
  /** `cmdObj.app` of the connect command; undefined before connect. */
  streamApp?: unknown;
  parserPacket: { header: { stream_id: number; length: number; type: number }; payload: Buffer };
  inPackets: Map<number, unknown>;
  onPublish(invokeMessage: NmsInvokeMessage): void;
  onPlay(invokeMessage: NmsInvokeMessage): void;
  sendStatusMessage(sid: number, level: string, code: string, description: string): void;
  parserData(buffer: Buffer): string | null;
  onOutputCallback(buffer: Buffer): void;
}

/** The prototype methods of `Rtmp` that `nms-patches.ts` wraps. */
export interface NmsRtmpPrototype {
  parserData(this: NmsRtmp, buffer: Buffer): string | null;
  onConnect(this: NmsRtmp, invokeMessage: NmsInvokeMessage): void;
  packetAlloc(this: NmsRtmp): void;
  controlHandler(this: NmsRtmp): void;
  onPublish(this: NmsRtmp, invokeMessage: NmsInvokeMessage): void;
  onPlay(this: NmsRtmp, invokeMessage: NmsInvokeMessage): void;
}

/** `protocol/rtmp.js` module export. */
export interface NmsRtmpClass {
  new (): NmsRtmp;
  prototype: NmsRtmpPrototype;
}

/** `session/rtmp_session.js`: one RTMP connection. Its handlers are arrow-function own properties, so they can be
 * replaced per instance before `run()` wires them to the socket and to `rtmp`. */
export interface NmsRtmpSession extends NmsSubscriber {
  socket: Socket;
  rtmp: NmsRtmp;
  broadcast: NmsBroadcast;
  isPublisher: boolean;
  streamPath: string;
  inBytes: number;
  outBytes: number;
  /** From the publisher's onMetaData (0 when absent). */
  videoWidth: number;
  videoHeight: number;
  run(): void;
  onData(data: Buffer): void;
  onPacket(packet: NmsAvPacket): void;
}

/** `new RtmpSession(socket)`. */
export type NmsRtmpSessionClass = new (socket: Socket) => NmsRtmpSession;

/** `core/context.js`: process-wide state shared by every NMS object. */
export interface NmsContext {
  config: Record<string, unknown>;
  sessions: Map<string, unknown>;
  broadcasts: Map<string, NmsBroadcast>;
}

/** `core/logger.js`: a singleton that prints with console.log. */
export interface NmsLogger {
  level: string;
  log(message: string, logLevel?: string): void;
}

/** `protocol/sps_info.js`. */
export interface NmsSpsInfo {
  parseH264Sps(sps: Buffer): { width: number; height: number } | null;
}
