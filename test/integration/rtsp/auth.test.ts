/** Basic and Digest authentication against the caller's policy, with raw requests and with real ffmpeg/ffprobe. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Authorize, AuthorizeRequest, RtspServerEvents } from '../../../app/media/rtsp/index.js';
import {
  FFMPEG,
  probe,
  publisherArgs,
  publishTestStream,
  spawnPeer,
  startServer,
  userPolicy,
  type TestUsers,
} from './peers.js';
import { RawClient } from './raw-client.js';

const USERS: TestUsers = {
  cam: { password: 'cam-secret', publish: true },
  viewer: { password: 'view-secret', publish: false },
};

const policy = (seen: AuthorizeRequest[]): Authorize => userPolicy(USERS, seen);

test('no credentials → 401 with Digest and Basic challenges; Basic works; a wrong password is counted', async (t) => {
  const seen: AuthorizeRequest[] = [];
  const server = await startServer(t, { authorize: policy(seen) });
  const url = `rtsp://127.0.0.1:${server.port}/cam1`;
  const client = await RawClient.open(t, server.port);
  const res = await client.request('DESCRIBE', url);
  assert.equal(res.status, 401);
  assert.equal(res.get('CSeq'), '1');
  const challenges = res.all('WWW-Authenticate');
  assert.equal(challenges.length, 2, res.headers.join('\n'));
  assert.match(challenges[0]!, /^Digest realm="cupola", nonce="[0-9a-z]+-[0-9a-f]{32}", algorithm=MD5$/);
  assert.equal(challenges[1], 'Basic realm="cupola"');
  assert.equal(server.counters.authFailures, 0, 'asking for credentials is not a failure');

  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const wrong = await client.request('DESCRIBE', url, { Authorization: basic('viewer', 'nope') });
  assert.equal(wrong.status, 401);
  assert.equal(server.counters.authFailures, 1);
  const right = await client.request('DESCRIBE', url, { Authorization: basic('viewer', 'view-secret') });
  assert.equal(right.status, 404, 'authorized; the path is simply not online');
  assert.equal(seen.at(-1)?.scheme, 'basic');
  assert.equal(seen.at(-1)?.password, 'view-secret');
  // Authorized once per connection and path: the policy is not asked again.
  const asked = seen.length;
  assert.equal((await client.request('DESCRIBE', url)).status, 404);
  assert.equal(seen.length, asked);
});

test('ffmpeg: wrong password refused (401), read-only user refused (403), right Digest credentials work', async (t) => {
  const seen: AuthorizeRequest[] = [];
  const server = await startServer(t, { authorize: policy(seen) });
  const failures: RtspServerEvents['auth-failed'][] = [];
  server.on('auth-failed', (e) => failures.push(e));
  const at = (cred: string, path: string) => `rtsp://${cred}@127.0.0.1:${server.port}/${path}`;

  const wrong = await spawnPeer(t, FFMPEG, publisherArgs(at('cam:wrong', 'cam1'), 'tcp')).done;
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /401|Unauthorized/i, wrong.stderr);
  const readOnly = await spawnPeer(t, FFMPEG, publisherArgs(at('viewer:view-secret', 'cam1'), 'tcp')).done;
  assert.notEqual(readOnly.code, 0);
  assert.match(readOnly.stderr, /403|Forbidden/i, readOnly.stderr);
  assert.deepEqual(server.paths(), []);

  await publishTestStream(t, server, 'cam1', 'tcp', at('cam:cam-secret', 'cam1'));
  const publishAsk = seen.find((r) => r.action === 'publish' && r.user === 'cam' && r.checkPassword('cam-secret'));
  assert.equal(publishAsk?.scheme, 'digest', 'ffmpeg answers the Digest challenge');
  assert.equal(publishAsk?.password, undefined, 'Digest never reveals the password');

  const ok = await probe(t, at('viewer:view-secret', 'cam1'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /codec_name=h264/);
  const bad = await probe(t, at('viewer:bad', 'cam1'));
  assert.notEqual(bad.code, 0);

  assert.deepEqual(
    failures.map((f) => [f.action, f.user, f.reason]),
    [
      ['publish', 'cam', 'unauthorized'],
      ['publish', 'viewer', 'forbidden'],
      ['read', 'viewer', 'unauthorized'],
    ],
  );
  assert.deepEqual([failures.at(-1)?.failures, failures.at(-1)?.forbidden], [2, 1]);
  assert.equal(server.counters.authFailures, 2);
  assert.equal(server.counters.authForbidden, 1);
});
