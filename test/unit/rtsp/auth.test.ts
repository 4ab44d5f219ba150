/** Digest and Basic parsing, the Digest response (RFC 2617 §3.2.2), nonce expiry, and the policy question. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  NonceIssuer,
  REALM,
  authenticate,
  digestResponse,
  parseAuthorization,
  parseParams,
} from '../../../app/media/rtsp/auth.js';
import type { RtspRequest } from '../../../app/media/rtsp/request-parser.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function request(method: string, authorization?: string): RtspRequest {
  const headers = new Map([['cseq', '1']]);
  if (authorization) headers.set('authorization', authorization);
  return { method, uri: 'rtsp://h/cam1', version: 'RTSP/1.0', headers, body: Buffer.alloc(0) };
}

test('parses Basic and Digest credentials, quoted values with commas and escapes', () => {
  assert.deepEqual(parseAuthorization(`Basic ${Buffer.from('u:p:w').toString('base64')}`), {
    scheme: 'basic',
    user: 'u',
    password: 'p:w',
  });
  const params = parseParams(
    'username="a\\"b", realm="cupola", nonce="n, 1", uri="rtsp://h/x", response=abc, nc=00000001',
  );
  assert.deepEqual(
    [...params],
    [
      ['username', 'a"b'],
      ['realm', 'cupola'],
      ['nonce', 'n, 1'],
      ['uri', 'rtsp://h/x'],
      ['response', 'abc'],
      ['nc', '00000001'],
    ],
  );
  assert.equal(parseAuthorization('Digest realm="cupola"'), null, 'no username/nonce/response');
  assert.equal(parseAuthorization('Bearer x'), null);
  assert.equal(parseAuthorization('Basic bm9jb2xvbg=='), null, 'no colon');
});

test('the Digest response matches RFC 2617 with and without qop', () => {
  const p = new Map([
    ['username', 'Mufasa'],
    ['uri', 'rtsp://h/cam1'],
    ['nonce', 'dcd98b'],
  ]);
  const ha1 = md5(`Mufasa:${REALM}:Circle Of Life`);
  const ha2 = md5('DESCRIBE:rtsp://h/cam1');
  assert.equal(digestResponse(p, 'DESCRIBE', 'Circle Of Life'), md5(`${ha1}:dcd98b:${ha2}`));
  p.set('qop', 'auth').set('nc', '00000001').set('cnonce', '0a4f113b');
  assert.equal(digestResponse(p, 'DESCRIBE', 'Circle Of Life'), md5(`${ha1}:dcd98b:00000001:0a4f113b:auth:${ha2}`));
});

test('nonces expire (stale) and cannot be forged', () => {
  const nonces = new NonceIssuer(1000);
  const now = 1_700_000_000_000;
  const nonce = nonces.issue(now);
  assert.equal(nonces.check(nonce, now + 999), 'valid');
  assert.equal(nonces.check(nonce, now + 1000), 'stale');
  assert.equal(
    nonces.check(
      nonce.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
      now,
    ),
    'invalid',
  );
  assert.equal(new NonceIssuer(1000).check(nonce, now), 'invalid', 'another server instance');
  assert.equal(nonces.check('garbage', now), 'invalid');
});

test('authenticate: Digest checkPassword, stale nonce, forbidden, unauthorized, slow policy', async () => {
  const nonces = new NonceIssuer(60_000);
  const nonce = nonces.issue();
  const uri = 'rtsp://h/cam1';
  const response = md5(`${md5(`u:${REALM}:pw`)}:${nonce}:${md5(`ANNOUNCE:${uri}`)}`);
  const digest = (n: string, r = response) =>
    `Digest username="u", realm="${REALM}", nonce="${n}", uri="${uri}", response="${r}"`;
  const target = { path: 'cam1', action: 'publish' as const, remote: '127.0.0.1:1' };
  const policy = (verdict: 'ok' | 'forbidden') => (req: { checkPassword(s: string): boolean }) =>
    req.checkPassword('pw') ? verdict : ('unauthorized' as const);

  assert.deepEqual(await authenticate(policy('ok'), nonces, 1000, request('ANNOUNCE', digest(nonce)), target), {
    kind: 'ok',
  });
  const forbidden = await authenticate(policy('forbidden'), nonces, 1000, request('ANNOUNCE', digest(nonce)), target);
  assert.deepEqual(forbidden, { kind: 'forbidden', user: 'u' });
  const wrong = await authenticate(policy('ok'), nonces, 1000, request('ANNOUNCE', digest(nonce, md5('x'))), target);
  assert.ok(wrong.kind === 'challenge' && wrong.failed && wrong.response.status === 401);
  const short = new NonceIssuer(1);
  const old = short.issue(Date.now() - 10);
  const stale = await authenticate(policy('ok'), short, 1000, request('ANNOUNCE', digest(old)), target);
  assert.ok(stale.kind === 'challenge' && !stale.failed, 'stale: the client retries with the new nonce');
  const staleHeader = stale.kind === 'challenge' ? stale.response.headers?.['WWW-Authenticate'] : undefined;
  assert.match(String(staleHeader), /stale=TRUE/);
  const none = await authenticate(policy('ok'), nonces, 1000, request('ANNOUNCE'), target);
  assert.ok(none.kind === 'challenge' && !none.failed, 'no credentials: a challenge, not a failure');
  const headers = none.kind === 'challenge' ? none.response.headers?.['WWW-Authenticate'] : undefined;
  assert.ok(Array.isArray(headers) && headers.length === 2);
  await assert.rejects(
    authenticate(() => new Promise(() => undefined), nonces, 50, request('ANNOUNCE'), target),
    /did not answer within 50 ms/,
  );
});
