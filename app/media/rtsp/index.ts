/** Public surface of the RTSP server module. */
export { RtspServer } from './rtsp-server.js';
export {
  DEFAULT_LIMITS,
  type AuthResult,
  type Authorize,
  type AuthorizeRequest,
  type PublisherHandle,
  type RtspAction,
  type RtspLimits,
  type RtspServerEvents,
  type RtspServerOptions,
} from './types.js';
