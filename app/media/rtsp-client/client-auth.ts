/**
 * The client side of RTSP authentication: picks a challenge from a 401 (Digest MD5 with qop=auth or without qop,
 * else Basic) and answers every later request with it. The Digest arithmetic is the server's (app/media/rtsp/auth.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { digestResponseFromHa1, parseParams } from '../rtsp/auth.js';

/** A camera account. */
export interface ClientCredentials {
  user: string;
  password: string;
}

type Scheme = { kind: 'basic' } | { kind: 'digest'; params: Map<string, string>; qop: boolean; nc: number };

/** Splits WWW-Authenticate values into single challenges (one header line may carry several). */
export function splitChallenges(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(/,\s*(?=(?:basic|digest|bearer|negotiate|ntlm)\s)/i)).map((c) => c.trim());
}

const quote = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;

/** Answers one camera's challenges for the life of a connection. */
export class ClientAuth {
  private scheme: Scheme | null = null;

  constructor(private readonly creds: ClientCredentials | null) {}

  /**
   * Adopts the challenges of a 401. Returns null when the request is worth sending again, else why not: no
   * credentials, credentials already refused, or only schemes we do not speak.
   */
  accept(challenges: readonly string[]): string | null {
    if (!this.creds) return 'the camera asks for credentials (401) and none are configured';
    const all = splitChallenges(challenges);
    const digest = all
      .filter((c) => /^digest\s/i.test(c))
      .map((c) => parseParams(c.slice(c.indexOf(' ') + 1)))
      .find((p) => p.has('nonce') && (p.get('algorithm') ?? 'MD5').toUpperCase() === 'MD5' && qopUsable(p));
    const stale = digest?.get('stale')?.toLowerCase() === 'true';
    if (this.scheme !== null && !stale) {
      return `the camera refused the credentials of user ${JSON.stringify(this.creds.user)} (401): wrong user or password`;
    }
    if (digest) {
      this.scheme = { kind: 'digest', params: digest, qop: qopList(digest).includes('auth'), nc: 0 };
      return null;
    }
    if (all.some((c) => /^basic(\s|$)/i.test(c))) {
      this.scheme = { kind: 'basic' };
      return null;
    }
    const offered = all.map((c) => c.split(/\s/)[0]).join(', ') || 'none';
    return `the camera offers no authentication scheme we support (offered: ${offered})`;
  }

  /** The Authorization header for a request, or undefined before any challenge was accepted. */
  header(method: string, uri: string): string | undefined {
    const s = this.scheme;
    if (!s || !this.creds) return undefined;
    const { user, password } = this.creds;
    if (s.kind === 'basic') return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const realm = s.params.get('realm') ?? '';
    const ha1 = createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');
    const nonce = s.params.get('nonce') ?? '';
    const answer = new Map([
      ['username', user],
      ['uri', uri],
      ['nonce', nonce],
    ]);
    const parts = [`username=${quote(user)}`, `realm=${quote(realm)}`, `nonce=${quote(nonce)}`, `uri=${quote(uri)}`];
    if (s.qop) {
      s.nc++;
      const nc = s.nc.toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      answer.set('qop', 'auth').set('nc', nc).set('cnonce', cnonce);
      parts.push(`qop=auth`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    }
    parts.push(`response=${quote(digestResponseFromHa1(answer, method, ha1))}`);
    if (s.params.has('algorithm')) parts.push('algorithm=MD5');
    const opaque = s.params.get('opaque');
    if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

function qopList(params: Map<string, string>): string[] {
  return (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase());
}

/** No qop (RFC 2069 style) or a list that includes `auth`; `auth-int` alone is not offered by cameras we know. */
function qopUsable(params: Map<string, string>): boolean {
  return !params.has('qop') || qopList(params).includes('auth');
}
