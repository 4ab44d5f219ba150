/** Public surface of the RTSP client: pulling cameras into an in-process RTSP server path. */
export { RtspPuller, type PullState, type PullStats, type RtspPullerOptions } from './puller.js';
export type { PullTarget, PulledStream } from './pull-session.js';
export { withoutCredentials } from './control-urls.js';
