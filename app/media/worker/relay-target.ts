/**
 * Where the master's F1 relay of `<site>/<camera>` goes: the F1 RTSP path of that name and, through RtpToFlv, the
 * RTMP broadcast of app `<site>`, stream `<camera>`, in the same process: one RTSP pull serves both, with no ffmpeg.
 * When the RTMP side cannot take the stream (no H.264/AAC track, name taken) RTSP still gets it, and the reason
 * is logged once per publish.
 */
import type { Logger } from '../../log/logger.js';
import { RtpToFlv } from '../bridge/rtp-to-flv.js';
import type { InternalPublisher } from '../rtmp/index.js';
import type { PullTarget } from '../rtsp-client/index.js';

/** What the target needs of the RTMP server. */
export interface RtmpOut {
  publishInternal(app: string, name: string): InternalPublisher;
}

/** See the file comment. `rtmp` is asked per publish (null while the RTMP server is not running). */
export function rtspAndRtmp(f1: PullTarget, rtmp: () => RtmpOut | null, log: Logger): PullTarget {
  return {
    publish(path, sdp) {
      const rtsp = f1.publish(path, sdp);
      let flv: RtpToFlv | null = null;
      let out: InternalPublisher | null = null;
      const slash = path.indexOf('/');
      try {
        const server = rtmp();
        if (!server) throw new Error('the RTMP server is not running');
        out = server.publishInternal(path.slice(0, slash), path.slice(slash + 1));
        const publisher = out;
        flv = new RtpToFlv(sdp, (tag) => publisher.write(tag));
        if (flv.skipped.length) log.info({ path, skipped: flv.skipped }, 'RTMP relay: tracks not carried');
      } catch (err) {
        out?.close();
        out = null;
        flv = null;
        log.warn({ path, reason: (err as Error).message }, 'RTMP relay not published; RTSP only');
      }
      return {
        writeRtp(track, packet) {
          flv?.writeRtp(track, packet);
          return rtsp.writeRtp(track, packet);
        },
        writeRtcp(track, packet) {
          return rtsp.writeRtcp(track, packet);
        },
        close() {
          flv?.close();
          out?.close();
          rtsp.close();
        },
      };
    },
  };
}
