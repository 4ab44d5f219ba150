/**
 * The two ways a reader receives RTP: `$` frames on its own TCP connection, or datagrams from the shared UDP socket
 * pair. Both are non-blocking: a TCP reader that falls behind is dropped, a full UDP queue drops packets.
 */
import type { Socket } from 'node:net';
import type { RtspTransport } from '../../defs/rtsp.js';
import type { ReaderSink } from './stream-path.js';
import type { UdpPair } from './udp-pair.js';

/** Per track: interleaved channels (TCP) or client ports (UDP), as agreed at SETUP. */
export type TrackRoutes = Map<number, [number, number]>;

/** Sends to a reader over its RTSP connection; drops the reader when its unsent bytes or stall exceed the bounds. */
export class TcpReaderSink implements ReaderSink {
  readonly transport: RtspTransport = 'tcp';
  private lastFlushed = 0;
  private lastProgressAt = Date.now();
  private dropped = false;
  private corked = false;

  constructor(
    readonly remote: string,
    private readonly socket: Socket,
    private readonly channels: TrackRoutes,
    private readonly bounds: { readerBufferBytes: number; readerStallMs: number },
    private readonly onClose: (reason: string, dropped: boolean) => void,
  ) {}

  /** See ReaderSink. */
  sendRtp(track: number, packet: Buffer): boolean {
    return this.send(track, 0, packet);
  }

  /** See ReaderSink. */
  sendRtcp(track: number, packet: Buffer): void {
    this.send(track, 1, packet);
  }

  /** See ReaderSink. */
  close(reason: string): void {
    this.onClose(reason, false);
  }

  /**
   * Drops a reader whose kernel buffer accepted nothing for `readerStallMs` while bytes wait: a slow stream may
   * take minutes to reach `readerBufferBytes`, and the reader is dead long before that.
   */
  checkStall(now: number): void {
    const flushed = this.socket.bytesWritten - this.socket.writableLength;
    if (flushed !== this.lastFlushed || this.socket.writableLength === 0) {
      this.lastFlushed = flushed;
      this.lastProgressAt = now;
    } else if (now - this.lastProgressAt > this.bounds.readerStallMs) {
      this.drop(`no progress for ${now - this.lastProgressAt} ms with ${this.socket.writableLength} bytes queued`);
    }
  }

  private send(track: number, which: 0 | 1, packet: Buffer): boolean {
    const channels = this.channels.get(track);
    if (!channels || this.dropped || this.socket.destroyed) return false;
    if (this.socket.writableLength > this.bounds.readerBufferBytes) {
      this.drop(`more than ${this.bounds.readerBufferBytes} bytes queued`);
      return false;
    }
    // Corked until the end of this tick: the packets of a picture (they arrive together) leave in one writev
    // instead of one write call each, which is most of the cost of a reader (measured by the rtsp-fanout bench).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    // The `$` header on its own: the payload goes out as it is, not copied once per reader.
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x24;
    header[1] = channels[which];
    header.writeUInt16BE(packet.length, 2);
    this.socket.write(header);
    this.socket.write(packet);
    return true;
  }

  private drop(reason: string): void {
    if (this.dropped) return;
    this.dropped = true;
    this.onClose(reason, true);
  }
}

/** Sends to a reader's client_port pair from the server's shared UDP sockets. */
export class UdpReaderSink implements ReaderSink {
  readonly transport: RtspTransport = 'udp';

  constructor(
    readonly remote: string,
    private readonly ip: string,
    private readonly udp: UdpPair,
    private readonly ports: TrackRoutes,
    private readonly maxQueued: number,
    private readonly onClose: (reason: string, dropped: boolean) => void,
  ) {}

  /** See ReaderSink. */
  sendRtp(track: number, packet: Buffer): boolean {
    const ports = this.ports.get(track);
    return ports !== undefined && this.udp.send(false, packet, this.ip, ports[0], this.maxQueued);
  }

  /** See ReaderSink. */
  sendRtcp(track: number, packet: Buffer): void {
    const ports = this.ports.get(track);
    if (ports) this.udp.send(true, packet, this.ip, ports[1], this.maxQueued);
  }

  /** See ReaderSink. */
  close(reason: string): void {
    this.onClose(reason, false);
  }
}
