/** SETUP, PLAY, PAUSE and RECORD: the handlers that bind transports, sessions, readers and publishers. */
import type { HandlerResult, RtspConnection } from './connection.js';
import { checkAccess, reply, requestTarget, withSession } from './handlers.js';
import { TcpReaderSink, UdpReaderSink } from './reader-sink.js';
import type { RtspRequest } from './request-parser.js';
import { findPublisherTrack, findReaderTrack, type SessionDescription } from './sdp.js';
import { RtspSession } from './session.js';
import type { StreamPath } from './stream-path.js';
import { chooseTransport, formatTransport, type TransportSpec } from './transport-header.js';

/** SETUP of one track, for reading or (after ANNOUNCE) for recording. */
export async function handleSetup(conn: RtspConnection, req: RtspRequest): Promise<HandlerResult> {
  const target = requestTarget(req.uri);
  if (!target) return reply({ status: 400 });
  const { ctx } = conn;
  const spec = chooseTransport(req.headers.get('transport'), ctx.udp !== undefined);
  if (!spec) return reply({ status: 461 });
  const pick = pickTrack(conn, target.pathname);
  if ('status' in pick) return reply(pick);
  const { mode, pathName, sdp, rest, streamPath } = pick;
  const denied = await checkAccess(conn, req, pathName, mode === 'record' ? 'publish' : 'read');
  if (denied) return reply(denied);
  if (conn.isClosed) return reply({ status: 503 });
  const track = mode === 'record' ? findPublisherTrack(sdp, rest, `/${target.pathname}`) : findReaderTrack(sdp, rest);
  if (track < 0) return reply({ status: 404 });
  const session = conn.session ?? new RtspSession(mode, pathName, sdp, streamPath);
  if (session.state !== 'ready' || session.routes.has(track)) return reply({ status: 455 });
  if (session.transport !== undefined && session.transport !== spec.kind) return reply({ status: 461 });
  const transport = spec.kind === 'tcp' ? bindTcp(session, track, spec) : bindUdp(conn, session, track, spec);
  if (!transport) return reply({ status: 461 });
  session.transport = spec.kind;
  conn.session = session;
  return reply(withSession(conn, { status: 200, headers: { Transport: transport } }));
}

type Pick =
  | { mode: 'play' | 'record'; pathName: string; sdp: SessionDescription; rest: string; streamPath?: StreamPath }
  | { status: number };

/** Which path and mode a SETUP URL addresses: the session's, the announced one, or an online path. */
function pickTrack(conn: RtspConnection, pathname: string): Pick {
  const within = (path: string): string | null =>
    pathname === path ? '' : pathname.startsWith(`${path}/`) ? pathname.slice(path.length + 1) : null;
  const s = conn.session;
  if (s) {
    const rest = within(s.pathName);
    // One session = one path: aggregate control over several paths is not something cameras or players do.
    if (rest === null) return { status: 459 };
    return { mode: s.mode, pathName: s.pathName, sdp: s.sdp, rest };
  }
  const announced = conn.announced;
  const rest = announced ? within(announced.path) : null;
  if (announced && rest !== null) return { mode: 'record', pathName: announced.path, sdp: announced.sdp, rest };
  const registry = conn.ctx.registry;
  const whole = registry.get(pathname);
  if (whole) return { mode: 'play', pathName: pathname, sdp: whole.sdp, rest: '', streamPath: whole };
  const slash = pathname.lastIndexOf('/');
  const path = slash > 0 ? registry.get(pathname.slice(0, slash)) : undefined;
  if (!path) return { status: 404 };
  return { mode: 'play', pathName: path.name, sdp: path.sdp, rest: pathname.slice(slash + 1), streamPath: path };
}

function bindTcp(session: RtspSession, track: number, spec: TransportSpec & { kind: 'tcp' }): string {
  let pair = spec.interleaved;
  const taken = (p: [number, number]): boolean => session.channels.has(p[0]) || session.channels.has(p[1]);
  // Clients that leave the choice to us, or ask for channels in use, get the first free even pair.
  if (!pair || pair[0] === pair[1] || taken(pair)) {
    let c = 0;
    while (taken([c, c + 1])) c += 2;
    pair = [c, c + 1];
  }
  session.routes.set(track, pair);
  session.channels.set(pair[0], { track, rtcp: false });
  session.channels.set(pair[1], { track, rtcp: true });
  return formatTransport(spec, { interleaved: pair });
}

function bindUdp(
  conn: RtspConnection,
  session: RtspSession,
  track: number,
  spec: TransportSpec & { kind: 'udp' },
): string | null {
  const udp = conn.ctx.udp;
  if (!udp) return null;
  const [rtpPort, rtcpPort] = spec.clientPorts;
  session.routes.set(track, spec.clientPorts);
  const onPacket = (packet: Buffer, rtcp: boolean): void => {
    session.touch();
    // Readers send receiver reports and NAT punch packets: they only prove the reader is alive.
    const path = session.streamPath;
    if (session.mode !== 'record' || session.state !== 'recording' || !path) return;
    if (rtcp) path.writeRtcp(conn, track, packet);
    else path.writeRtp(conn, track, packet);
  };
  session.cleanups.push(udp.route(conn.ip, rtpPort, { onPacket }), udp.route(conn.ip, rtcpPort, { onPacket }));
  return formatTransport(spec, { serverPorts: udp.ports });
}

/** PLAY: starts (or resumes) sending the path to the reader, right after the response. */
export function handlePlay(conn: RtspConnection, req: RtspRequest): HandlerResult {
  const s = conn.session!;
  const path = s.streamPath;
  if (s.mode !== 'play' || s.routes.size === 0) return reply(withSession(conn, { status: 455 }));
  if (!path || path.isClosed) return reply(withSession(conn, { status: 404 }));
  const target = requestTarget(req.uri);
  const base = target ? `${target.origin}/${s.pathName}` : undefined;
  const headers: Record<string, string | undefined> = { Range: 'npt=0.000-' };
  if (base && s.state !== 'playing') headers['RTP-Info'] = path.rtpInfo(base);
  const response = withSession(conn, { status: 200, headers });
  if (s.state === 'playing') return reply(response);
  const { ctx } = conn;
  const onClose = (reason: string, dropped: boolean): void => {
    if (dropped) {
      ctx.readerDropped(s.pathName, conn.remote, reason);
      conn.destroy(reason);
    } else conn.finish(reason);
  };
  s.sink =
    s.transport === 'tcp'
      ? new TcpReaderSink(conn.remote, conn.socket, s.routes, ctx.limits, onClose)
      : new UdpReaderSink(conn.remote, conn.ip, ctx.udp!, s.routes, ctx.limits.udpSendQueueBytes, onClose);
  s.state = 'playing';
  const sink = s.sink;
  return { response, after: () => path.addReader(sink) };
}

/** PAUSE: a reader stops receiving (and resumes with PLAY); publishers cannot pause. */
export function handlePause(conn: RtspConnection): HandlerResult {
  const s = conn.session!;
  if (s.mode !== 'play') return reply(withSession(conn, { status: 455 }));
  if (s.sink) s.streamPath?.removeReader(s.sink);
  s.sink = undefined;
  s.state = 'ready';
  return reply(withSession(conn, { status: 200 }));
}

/** RECORD: the announced path goes online with this connection as its source. */
export function handleRecord(conn: RtspConnection): HandlerResult {
  const s = conn.session!;
  if (s.mode !== 'record' || s.state !== 'ready' || s.routes.size === 0) {
    return reply(withSession(conn, { status: 455 }));
  }
  s.streamPath = conn.ctx.registry.publish(s.pathName, s.sdp, conn);
  s.state = 'recording';
  return reply(withSession(conn, { status: 200 }));
}
