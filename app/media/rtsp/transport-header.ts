/** Parsing and formatting of the RTSP `Transport` header (RFC 2326 §12.39), unicast RTP only. */

/** One transport the client offers. */
export type TransportSpec =
  | { kind: 'tcp'; interleaved?: [number, number]; record: boolean }
  | { kind: 'udp'; clientPorts: [number, number]; record: boolean };

/**
 * The first offered transport the server supports (`udpEnabled` = whether UDP is served); `null` when the header
 * is absent, malformed or offers only multicast or other profiles (→ 461).
 */
export function chooseTransport(header: string | undefined, udpEnabled: boolean): TransportSpec | null {
  if (!header) return null;
  for (const offer of header.split(',').slice(0, 8)) {
    const spec = parseOffer(offer);
    if (spec && (spec.kind === 'tcp' || udpEnabled)) return spec;
  }
  return null;
}

function parseOffer(offer: string): TransportSpec | null {
  const [profile = '', ...params] = offer.trim().split(';');
  const p = profile.trim().toUpperCase();
  const values = new Map<string, string>();
  for (const param of params) {
    const eq = param.indexOf('=');
    const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    values.set(
      key,
      eq < 0
        ? ''
        : param
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, ''),
    );
  }
  if (values.has('multicast')) return null;
  const record = (values.get('mode') ?? '').toLowerCase() === 'record';
  if (p === 'RTP/AVP/TCP') {
    const channels = values.has('interleaved') ? range(values.get('interleaved')!, 255) : undefined;
    if (channels === null) return null;
    return channels ? { kind: 'tcp', interleaved: channels, record } : { kind: 'tcp', record };
  }
  if (p === 'RTP/AVP' || p === 'RTP/AVP/UDP') {
    const ports = values.has('client_port') ? range(values.get('client_port')!, 65535) : null;
    if (!ports || ports[0] === 0) return null;
    return { kind: 'udp', clientPorts: ports, record };
  }
  return null;
}

/** `a-b` or `a` (then b = a + 1); null when malformed or above `max`. */
function range(text: string, max: number): [number, number] | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  return a <= max && b <= max ? [a, b] : null;
}

/** The Transport header of a SETUP response. */
export function formatTransport(
  spec: TransportSpec,
  chosen: { interleaved?: [number, number]; serverPorts?: [number, number] },
): string {
  const mode = spec.record ? ';mode=record' : '';
  if (spec.kind === 'tcp') {
    const [a, b] = chosen.interleaved!;
    return `RTP/AVP/TCP;unicast;interleaved=${a}-${b}${mode}`;
  }
  const [c1, c2] = spec.clientPorts;
  const [s1, s2] = chosen.serverPorts!;
  return `RTP/AVP;unicast;client_port=${c1}-${c2};server_port=${s1}-${s2}${mode}`;
}
