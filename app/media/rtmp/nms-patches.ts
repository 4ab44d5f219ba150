/**
 * Targeted monkey-patches of node-media-server 4.4's RTMP parser (`protocol/rtmp.js`), installed once at module
 * load. Every byte from an RTMP peer goes through `Rtmp.prototype.parserData` (called by `RtmpSession.onData`,
 * rtmp_session.js:117), synchronously inside the socket's 'data' handler, so anything thrown below it is an
 * uncaught exception that kills the process. The patches:
 *
 * - `onConnect`: rtmp.js:695 does `new URL(cmdObj.tcUrl)`; a malformed or missing tcUrl throws ERR_INVALID_URL
 *   (trap 1). We validate the command object first and raise an RtmpProtocolError instead.
 * - `packetAlloc`: rtmp.js:612 allocates `header.length + 1024` bytes for every new message on every chunk stream
 *   the peer invents: 44 KB of headers reserved 6 GB of address space in our reproduction. Capped.
 * - `controlHandler`: a Set Chunk Size of 0 turns the parser's arithmetic into NaN and silently wedges the session.
 * - `parserData`: the choke point. Anything thrown inside (the errors above, and e.g. `protocol/amf.js` reading past
 *   a truncated AMF0 command, amf.js:456/611) becomes a returned error string, which RtmpSession.onData already
 *   handles by logging and ending the socket (rtmp_session.js:118-121). The error is sticky: later data is not
 *   parsed, and `protocolError()` lets the ingest count and close the session.
 *
 * `test/unit/rtmp/nms-internals.test.ts` fails if the patched methods or the call sites above change upstream.
 */
import { Rtmp } from './nms.js';
import type { NmsRtmp, NmsRtmpPrototype } from './nms-types.js';

/** Largest RTMP message accepted (a 4K key frame is well below; NMS itself accepts 16 MB per chunk stream). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** Most chunk streams one connection may use (encoders use 3 to 8). */
export const MAX_CHUNK_STREAMS = 64;

/** A peer broke the protocol; thrown inside the parser, caught by the parserData guard, never escapes. */
export class RtmpProtocolError extends Error {
  override readonly name = 'RtmpProtocolError';
}

// Symbol.for: if this file were loaded twice (dist and tsx), both copies see one patch and the true originals.
const ORIGINALS = Symbol.for('cupola.rtmp.nms-originals');
const FAILED = Symbol.for('cupola.rtmp.protocol-error');

type Proto = NmsRtmpPrototype & { [ORIGINALS]?: NmsRtmpPrototype };
type Marked = NmsRtmp & { [FAILED]?: string };

const proto = Rtmp.prototype as Proto;

/** NMS's own methods as they were before patching (the internals test calls them to prove the traps exist). */
export const originals: NmsRtmpPrototype = (proto[ORIGINALS] ??= {
  parserData: proto.parserData,
  onConnect: proto.onConnect,
  packetAlloc: proto.packetAlloc,
  controlHandler: proto.controlHandler,
  onPublish: proto.onPublish,
  onPlay: proto.onPlay,
});

/** The reason the parser of this connection gave up, if it did. */
export function protocolError(rtmp: NmsRtmp): string | undefined {
  return (rtmp as Marked)[FAILED];
}

/** True when the patches are in place (they are installed when this module is first imported). */
export function nmsPatched(): boolean {
  return proto.parserData !== originals.parserData && proto.onConnect !== originals.onConnect;
}

function describe(err: unknown): string {
  if (err instanceof RtmpProtocolError) return err.message;
  // Only the class and message: NMS's messages carry no peer input (ERR_INVALID_URL keeps the URL in `input`).
  return err instanceof Error ? `parser threw ${err.name}: ${err.message}` : 'parser threw';
}

if (!nmsPatched()) {
  proto.parserData = function parserData(this: Marked, buffer: Buffer): string | null {
    const failed = this[FAILED];
    if (failed !== undefined) return failed;
    try {
      return originals.parserData.call(this, buffer);
    } catch (err) {
      return (this[FAILED] = describe(err));
    }
  };

  proto.onConnect = function onConnect(this: NmsRtmp, invokeMessage) {
    const cmdObj = invokeMessage?.cmdObj;
    if (typeof cmdObj !== 'object' || cmdObj === null) throw new RtmpProtocolError('connect without a command object');
    const { tcUrl, app } = cmdObj as { tcUrl?: unknown; app?: unknown };
    if (typeof tcUrl !== 'string' || !URL.canParse(tcUrl))
      throw new RtmpProtocolError('connect with a malformed tcUrl');
    if (typeof app !== 'string') throw new RtmpProtocolError('connect without an app name');
    originals.onConnect.call(this, invokeMessage);
  };

  proto.packetAlloc = function packetAlloc(this: NmsRtmp) {
    const length = this.parserPacket.header.length;
    if (length > MAX_MESSAGE_BYTES)
      throw new RtmpProtocolError(`message of ${length} bytes (max ${MAX_MESSAGE_BYTES})`);
    if (this.inPackets.size > MAX_CHUNK_STREAMS)
      throw new RtmpProtocolError(`more than ${MAX_CHUNK_STREAMS} chunk streams`);
    originals.packetAlloc.call(this);
  };

  proto.controlHandler = function controlHandler(this: NmsRtmp) {
    const { header, payload } = this.parserPacket;
    if (header.type === 1) {
      const size = header.length >= 4 ? payload.readUInt32BE(0) : 0;
      if (size < 1 || size > 0x7fffffff) throw new RtmpProtocolError(`invalid chunk size ${size}`);
    }
    originals.controlHandler.call(this);
  };
}
