/** RTMP ingest (node-media-server 4.4 underneath, its traps neutralised): see README.md. */
export { RtmpIngest } from './rtmp-ingest.js';
export { InternalPublisher, type PublishedTag } from './internal-publisher.js';
export { parseFlvTag, isFlvFileHeader, type FlvTag } from './flv-tap.js';
export {
  DEFAULT_RTMP_LIMITS,
  type AuthorizePlay,
  type AuthorizePublish,
  type PlayRequest,
  type FlvTagType,
  type PublishRequest,
  type RtmpIngestCounters,
  type RtmpIngestOptions,
  type RtmpLimits,
  type RtmpStreamInfo,
  type RtmpStreamStats,
  type TagListener,
} from './types.js';
