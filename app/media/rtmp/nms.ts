/**
 * The node-media-server 4.4 modules this folder builds on, loaded by path and checked once. We use NMS's protocol
 * and session layer (RTMP parser, RtmpSession, BroadcastServer with its header/GOP caches) but never its
 * `NodeMediaServer`, whose constructor opens a JSON store in ./data with SIGINT/SIGTERM hooks, restores relay tasks,
 * auto-records, builds an express app, and whose listeners call process.exit on a taken port.
 */
import { createRequire } from 'node:module';
import type {
  NmsBroadcastClass,
  NmsContext,
  NmsLogger,
  NmsRtmpClass,
  NmsRtmpSessionClass,
  NmsSpsInfo,
} from './nms-types.js';

const require = createRequire(import.meta.url);

/** The package version this folder was written against; `nms-internals.test.ts` checks the installed one. */
export const NMS_VERSION = '4.4.3';

/** Module paths inside the package, relative to its root (also read as text by the internals test). */
export const NMS_FILES = {
  rtmp: 'node-media-server/src/protocol/rtmp.js',
  rtmpSession: 'node-media-server/src/session/rtmp_session.js',
  rtmpServer: 'node-media-server/src/server/rtmp_server.js',
  broadcast: 'node-media-server/src/server/broadcast_server.js',
  context: 'node-media-server/src/core/context.js',
  logger: 'node-media-server/src/core/logger.js',
  spsInfo: 'node-media-server/src/protocol/sps_info.js',
} as const;

function load<T>(path: string, check: (m: T) => boolean): T {
  const mod = require(path) as T;
  // Fail at import with a message naming the file rather than deep inside a session later.
  if (!check(mod)) throw new Error(`node-media-server internals changed: unexpected export of ${path}`);
  return mod;
}

/** `protocol/rtmp.js` (class Rtmp). */
export const Rtmp = load<NmsRtmpClass>(
  NMS_FILES.rtmp,
  (m) =>
    typeof m === 'function' &&
    ['parserData', 'onConnect', 'packetAlloc', 'controlHandler', 'onPublish', 'onPlay'].every(
      (k) => typeof (m.prototype as unknown as Record<string, unknown>)[k] === 'function',
    ),
);

/** `session/rtmp_session.js` (class RtmpSession). */
export const RtmpSession = load<NmsRtmpSessionClass>(NMS_FILES.rtmpSession, (m) => typeof m === 'function');

/** `server/broadcast_server.js` (class BroadcastServer). */
export const BroadcastServer = load<NmsBroadcastClass>(NMS_FILES.broadcast, (m) => typeof m === 'function');

/** `core/context.js`: the process-wide singleton (see README, trap 3). */
export const Context = load<NmsContext>(
  NMS_FILES.context,
  (m) => m.broadcasts instanceof Map && m.sessions instanceof Map,
);

/** `core/logger.js`: the singleton logger (redirected by `nms-logger.ts`). */
export const nmsLogger = load<NmsLogger>(NMS_FILES.logger, (m) => typeof m.log === 'function');

/** `protocol/sps_info.js`: H.264 SPS → width/height (never throws, null on failure). */
export const spsInfo = load<NmsSpsInfo>(NMS_FILES.spsInfo, (m) => typeof m.parseH264Sps === 'function');
