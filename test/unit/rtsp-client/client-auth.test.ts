/** Answers to camera challenges: Digest (MD5, qop=auth and none) checked against RFC 2617 arithmetic, and Basic. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseAuthorization } from '../../../app/media/rtsp/auth.js';
import { ClientAuth, splitChallenges } from '../../../app/media/rtsp-client/client-auth.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const CREDS = { user: 'admin', password: 'p"a\\ss' };
const URI = 'rtsp://10.0.0.5/stream1';

function digestOf(header: string | undefined): Map<string, string> {
  const parsed = parseAuthorization(header);
  assert.ok(parsed?.scheme === 'digest', header);
  return parsed.params;
}

test('Digest without qop: response = MD5(HA1:nonce:HA2), opaque echoed, quotes escaped', () => {
  const auth = new ClientAuth(CREDS);
  assert.equal(auth.header('DESCRIBE', URI), undefined, 'nothing before a challenge');
  assert.equal(auth.accept(['Digest realm="IP Camera", nonce="n-1", opaque="op"', 'Basic realm="x"']), null);
  const p = digestOf(auth.header('DESCRIBE', URI));
  assert.equal(p.get('username'), 'admin');
  assert.equal(p.get('uri'), URI);
  assert.equal(p.get('opaque'), 'op');
  assert.equal(p.has('qop'), false);
  const ha1 = md5(`admin:IP Camera:${CREDS.password}`);
  assert.equal(p.get('response'), md5(`${ha1}:n-1:${md5(`DESCRIBE:${URI}`)}`));
});

test('Digest with qop="auth,auth-int": qop=auth, nc counts up, a fresh cnonce each time', () => {
  const auth = new ClientAuth(CREDS);
  assert.equal(auth.accept(['Digest realm="r", nonce="abc", qop="auth,auth-int", algorithm=MD5']), null);
  const first = digestOf(auth.header('SETUP', URI));
  const second = digestOf(auth.header('PLAY', URI));
  assert.deepEqual([first.get('qop'), first.get('nc'), second.get('nc')], ['auth', '00000001', '00000002']);
  assert.notEqual(first.get('cnonce'), second.get('cnonce'));
  const ha1 = md5(`admin:r:${CREDS.password}`);
  const expected = md5(`${ha1}:abc:00000002:${second.get('cnonce')}:auth:${md5(`PLAY:${URI}`)}`);
  assert.equal(second.get('response'), expected);
  assert.equal(second.get('algorithm'), 'MD5');
});

test('Basic when it is the only usable scheme; clear errors otherwise', () => {
  const basic = new ClientAuth(CREDS);
  assert.equal(basic.accept(['Digest realm="r", nonce="x", algorithm=SHA-256', 'Basic realm="r"']), null);
  assert.equal(basic.header('OPTIONS', URI), `Basic ${Buffer.from(`admin:${CREDS.password}`).toString('base64')}`);
  assert.match(
    basic.accept(['Basic realm="r"']) ?? '',
    /refused the credentials of user "admin".*wrong user or password/,
  );

  assert.match(new ClientAuth(null).accept(['Basic realm="r"']) ?? '', /none are configured/);
  assert.match(
    new ClientAuth(CREDS).accept(['Bearer realm="r"']) ?? '',
    /no authentication scheme we support \(offered: Bearer\)/,
  );
  assert.match(new ClientAuth(CREDS).accept([]) ?? '', /offered: none/);
});

test('a stale nonce is retried; a second plain 401 is a refusal', () => {
  const auth = new ClientAuth(CREDS);
  assert.equal(auth.accept(['Digest realm="r", nonce="old"']), null);
  assert.equal(auth.accept(['Digest realm="r", nonce="new", stale=TRUE']), null);
  assert.equal(digestOf(auth.header('PLAY', URI)).get('nonce'), 'new');
  assert.match(auth.accept(['Digest realm="r", nonce="newer"']) ?? '', /wrong user or password/);
});

test('several challenges on one header line are split', () => {
  assert.deepEqual(splitChallenges(['Digest realm="a, b", nonce="n", Basic realm="c"']), [
    'Digest realm="a, b", nonce="n"',
    'Basic realm="c"',
  ]);
});
