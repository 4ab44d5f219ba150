/**
 * A publisher inside the process: feeds NMS's BroadcastServer of `/<app>/<name>` the way an RTMP publisher's
 * session does (postPublish, broadcastMessage per tag, donePublish), so that RTMP players of that path get a relayed
 * stream without a socket or a process per stream. Used by the master's F1 relay (RTSP → RtpToFlv → here).
 */
import { BroadcastServer, Context } from './nms.js';
import type { NmsAvPacket, NmsBroadcast } from './nms-types.js';

/** One tag to publish (flags as NMS's AVPacket: 0/1 audio config/frame, 2/3/4 video config/key frame/picture). */
export interface PublishedTag {
  type: 8 | 9;
  flags: 0 | 1 | 2 | 3 | 4;
  timestampMs: number;
  body: Buffer;
}

let nextId = 0;

/** See the file comment. Made by RtmpIngest.publishInternal. */
export class InternalPublisher {
  readonly id = `cupola-relay-${++nextId}`;
  /** Empty: NMS treats the session as internal (no auth, not counted as a remote peer). */
  readonly ip = '';
  readonly protocol = 'relay';
  readonly isPublisher = true;
  endTime = 0;
  /** Fields NMS's broadcast reads or writes on its publisher (stats from onMetaData; none sent here). */
  videoWidth = 0;
  videoHeight = 0;
  inBytes = 0;
  private readonly broadcast: NmsBroadcast;
  private closed = false;

  constructor(readonly streamPath: string) {
    let broadcast = Context.broadcasts.get(streamPath);
    if (!broadcast) {
      broadcast = new BroadcastServer(streamPath);
      Context.broadcasts.set(streamPath, broadcast);
    }
    // A relay that reconnects is a new publish, as for cameras (see README, "A publish outlives its socket").
    broadcast.publishGraceMs = 0;
    const err = broadcast.postPublish(this);
    if (err !== null) throw new Error(`RTMP: ${streamPath} is already published`);
    this.broadcast = broadcast;
  }

  /** Broadcasts one tag to the path's players (and NMS's caches). */
  write(tag: PublishedTag): void {
    if (this.closed) return;
    this.inBytes += tag.body.length;
    const packet: NmsAvPacket = {
      codec_id: tag.type === 9 ? 7 : 10,
      codec_type: tag.type,
      flags: tag.flags,
      pts: tag.timestampMs,
      dts: tag.timestampMs,
      size: tag.body.length,
      data: tag.body,
    };
    this.broadcast.broadcastMessage(packet);
  }

  /** Ends the publish; players stay attached, waiting for the next publish of the path. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.broadcast.donePublish(this);
  }

  /** Never called for a publisher; NMS's session type requires it. */
  sendBuffer(): void {}
}
