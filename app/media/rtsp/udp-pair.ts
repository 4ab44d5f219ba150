/**
 * The server's one RTP + one RTCP UDP socket. Every UDP session shares them: inbound datagrams are demultiplexed by
 * source `ip:port` (registered at SETUP from the client_port pair), outbound ones are addressed per reader.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** Who receives datagrams from one source address (a publisher's track or a reader's RTCP port). */
export interface UdpRoute {
  onPacket(packet: Buffer, rtcp: boolean): void;
}

/** A bound pair of UDP sockets; see the file comment. */
export class UdpPair {
  private rtp: Socket | undefined;
  private rtcp: Socket | undefined;
  private readonly routes = new Map<string, UdpRoute>();
  /** Datagrams from unregistered sources, for stats: a sign of a misconfigured or hostile peer. */
  strayPackets = 0;

  constructor(
    private readonly host: string,
    private readonly rtpPort: number,
  ) {}

  /** The bound ports (after start()). */
  get ports(): [number, number] {
    return [this.rtp?.address().port ?? 0, this.rtcp?.address().port ?? 0];
  }

  /** Binds both sockets; with port 0 it looks for a free even/odd pair, as RFC 3550 §11 recommends. */
  async start(): Promise<void> {
    const type = this.host.includes(':') ? 'udp6' : 'udp4';
    for (let attempt = 0; attempt < 50; attempt++) {
      const rtp = createSocket({ type, reuseAddr: false });
      try {
        await bind(rtp, this.rtpPort, this.host);
      } catch (err) {
        safeClose(rtp);
        throw new Error(`RTSP: cannot bind UDP ${this.host}:${this.rtpPort} for RTP: ${(err as Error).message}`);
      }
      const port = rtp.address().port;
      const rtcp = createSocket({ type, reuseAddr: false });
      const ok =
        (port % 2 === 0 || this.rtpPort !== 0) &&
        (await bind(rtcp, port + 1, this.host).then(
          () => true,
          () => false,
        ));
      if (ok) {
        this.attach(rtp, rtcp);
        return;
      }
      safeClose(rtp);
      safeClose(rtcp);
      if (this.rtpPort !== 0) throw new Error(`RTSP: cannot bind UDP ${this.host}:${port + 1} for RTCP (in use?)`);
    }
    throw new Error('RTSP: found no free UDP port pair for RTP/RTCP');
  }

  /** Routes datagrams from `ip:port` to `route`; returns the function that removes the route. */
  route(ip: string, port: number, route: UdpRoute): () => void {
    const key = `${ip}:${port}`;
    this.routes.set(key, route);
    return () => {
      if (this.routes.get(key) === route) this.routes.delete(key);
    };
  }

  /** Sends a datagram unless the socket's queue exceeds `maxQueued` bytes; returns false when dropped. */
  send(rtcp: boolean, packet: Buffer, ip: string, port: number, maxQueued: number): boolean {
    const socket = rtcp ? this.rtcp : this.rtp;
    if (!socket || socket.getSendQueueSize() > maxQueued) return false;
    socket.send(packet, port, ip);
    return true;
  }

  /** Closes both sockets; resolves once they are closed. */
  async stop(): Promise<void> {
    const sockets = [this.rtp, this.rtcp].filter((s): s is Socket => s !== undefined);
    this.rtp = this.rtcp = undefined;
    this.routes.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private attach(rtp: Socket, rtcp: Socket): void {
    this.rtp = rtp;
    this.rtcp = rtcp;
    const deliver = (isRtcp: boolean) => (msg: Buffer, from: RemoteInfo) => {
      const route = this.routes.get(`${from.address}:${from.port}`);
      if (route) route.onPacket(msg, isRtcp);
      else this.strayPackets++;
    };
    rtp.on('message', deliver(false));
    rtcp.on('message', deliver(true));
    // ICMP port-unreachable from a vanished reader surfaces as an error on some systems; it must not crash us.
    rtp.on('error', () => undefined);
    rtcp.on('error', () => undefined);
  }
}

function bind(socket: Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function safeClose(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // never bound, or already closed
  }
}
