import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { digestHa1, digestResponse } from '../../../app/media/rtsp/auth.js';
import type { AuthorizeRequest } from '../../../app/media/rtsp/types.js';
import type { AccessTables, LeaseEntry } from '../../../app/media/worker/protocol.js';
import { decideRtsp, type LeaseMap, type Plane } from '../../../app/media/worker/rtsp-policy.js';

/** The verdict alone. */
const authorizeRtsp = (tables: AccessTables, plane: Plane, req: AuthorizeRequest, leases?: LeaseMap) =>
  decideRtsp(tables, plane, req, leases).result;

const SECRET = 'cpt_abc123abc123_s3cret';
const OTHER = 'cpt_def456def456_0ther';
const tokenRow = (id: string, secret: string) => ({
  id,
  hash: createHash('sha256').update(secret).digest('base64url'),
  ha1: digestHa1(id, secret),
});
/** A lease of `path` held by `tokenId`, with its own RTSP credential `user`:`password` (the worker gets hash and HA1). */
const leaseRow = (path: string, tokenId: string, user: string, password: string): LeaseEntry => ({
  path,
  tokenId,
  holder: 'comp-a',
  rtspUser: user,
  rtspHash: createHash('sha256').update(password).digest('base64url'),
  rtspHa1: digestHa1(user, password),
});
const tables: AccessTables = {
  cameras: [],
  tokens: [tokenRow('abc123abc123', SECRET), tokenRow('def456def456', OTHER)],
  users: [
    { user: 'viewer', password: 'viewer-pass', read: ['cam1', 'site-a/*'], publish: [] },
    { user: 'pusher', password: 'pusher-pass', read: [], publish: ['*'] },
  ],
  pulls: [],
  relays: [],
};

function basic(user: string, password: string, path = 'cam1', action: 'read' | 'publish' = 'read'): AuthorizeRequest {
  return {
    path,
    action,
    remote: '127.0.0.1:5000',
    user,
    password,
    scheme: 'basic',
    checkPassword: (s) => s === password,
    checkHa1: (h) => h === digestHa1(user, password),
  };
}

function digest(user: string, password: string, path = 'cam1', action: 'read' | 'publish' = 'read'): AuthorizeRequest {
  const params = new Map([
    ['username', user],
    ['nonce', 'n1'],
    ['uri', `rtsp://h/${path}`],
  ]);
  const sent = digestResponse(params, 'DESCRIBE', password);
  return {
    path,
    action,
    remote: '127.0.0.1:5000',
    user,
    scheme: 'digest',
    checkPassword: (s) => digestResponse(params, 'DESCRIBE', s) === sent,
    checkHa1: (h) => {
      // What the server computes from a stored HA1 must equal what the client computed from the password.
      const md5 = (x: string) => createHash('md5').update(x).digest('hex');
      return md5(`${h}:n1:${md5(`DESCRIBE:rtsp://h/${path}`)}`) === sent;
    },
  };
}

test('tokens: Basic with any user name, Digest with the token id as user; read both planes, publish F2 only', () => {
  assert.equal(authorizeRtsp(tables, 'f1', basic('anyone', SECRET)), 'ok');
  assert.equal(authorizeRtsp(tables, 'f2', digest('abc123abc123', SECRET, 'cam1', 'publish')), 'ok');
  assert.equal(authorizeRtsp(tables, 'f1', digest('abc123abc123', SECRET, 'cam1', 'publish')), 'forbidden');
  assert.equal(authorizeRtsp(tables, 'f2', digest('someone-else', SECRET)), 'unauthorized');
  assert.equal(authorizeRtsp(tables, 'f2', basic('anyone', 'wrong')), 'unauthorized');
});

test('users get exactly their paths; no credentials asks for them', () => {
  assert.equal(authorizeRtsp(tables, 'f1', digest('viewer', 'viewer-pass', 'cam1')), 'ok');
  assert.equal(authorizeRtsp(tables, 'f1', basic('viewer', 'viewer-pass', 'site-a/cam7')), 'ok');
  assert.equal(authorizeRtsp(tables, 'f1', basic('viewer', 'viewer-pass', 'cam2')), 'forbidden');
  assert.equal(authorizeRtsp(tables, 'f2', basic('viewer', 'viewer-pass', 'cam1', 'publish')), 'forbidden');
  assert.equal(authorizeRtsp(tables, 'f1', basic('viewer', 'nope')), 'unauthorized');
  const none = { ...basic('x', 'y'), user: undefined, password: undefined, scheme: undefined };
  assert.equal(authorizeRtsp(tables, 'f1', none), 'unauthorized');
});

test('a leased F2 path: only the lease token publishes it; reads, other paths and wrong passwords are unchanged', () => {
  const leases = new Map([['cam1', leaseRow('cam1', 'abc123abc123', 'lease-0a0a0a0a0a0a', 'lease-pass')]]);
  const f2 = (req: AuthorizeRequest) => authorizeRtsp(tables, 'f2', req, leases);
  assert.equal(f2(digest('abc123abc123', SECRET, 'cam1', 'publish')), 'ok', 'the holder, Digest');
  assert.equal(f2(basic('anyone', SECRET, 'cam1', 'publish')), 'ok', 'the holder, Basic');
  const refused = decideRtsp(tables, 'f2', digest('def456def456', OTHER, 'cam1', 'publish'), leases);
  assert.deepEqual(refused, { result: 'forbidden', tokenId: 'def456def456', lease: leases.get('cam1') });
  assert.equal(f2(basic('abc123abc123', OTHER, 'cam1', 'publish')), 'forbidden', 'Basic: the password decides');
  assert.equal(f2(basic('pusher', 'pusher-pass', 'cam1', 'publish')), 'forbidden', 'users are bound too');
  assert.equal(f2(basic('pusher', 'pusher-pass', 'cam2', 'publish')), 'ok', 'unleased paths keep the old rule');
  assert.equal(f2(digest('def456def456', OTHER, 'cam2', 'publish')), 'ok');
  assert.equal(f2(digest('def456def456', OTHER, 'cam1', 'read')), 'ok', 'reading is not leased');
  assert.equal(f2(basic('anyone', 'wrong', 'cam1', 'publish')), 'unauthorized', 'a wrong password still gets 401');
  assert.equal(decideRtsp(tables, 'f2', basic('viewer', 'viewer-pass', 'cam1', 'publish'), leases).lease, undefined);
  assert.equal(authorizeRtsp(tables, 'f2', digest('def456def456', OTHER, 'cam1', 'publish')), 'ok', 'no lease');
});

test("a lease's own credential: its camera's F1 read and F2 publish, Basic and Digest; nothing else; gone with it", () => {
  const PASS = 'lease-pass-1';
  const cam1 = leaseRow('cam1', 'abc123abc123', 'lease-1a1a1a1a1a1a', PASS);
  const cam2 = leaseRow('cam2', 'def456def456', 'lease-2b2b2b2b2b2b', 'lease-pass-2');
  const leases = new Map([
    ['cam1', cam1],
    ['cam2', cam2],
  ]);
  const ask = (plane: 'f1' | 'f2', req: AuthorizeRequest) => decideRtsp(tables, plane, req, leases);
  for (const cred of [basic, digest]) {
    const what = cred === basic ? 'Basic' : 'Digest';
    assert.deepEqual(ask('f1', cred(cam1.rtspUser, PASS, 'cam1')), { result: 'ok', leaseUser: cam1.rtspUser }, what);
    assert.equal(ask('f2', cred(cam1.rtspUser, PASS, 'cam1', 'publish')).result, 'ok', `${what}: F2 publish`);
    assert.equal(ask('f2', cred(cam1.rtspUser, PASS, 'cam1')).result, 'forbidden', `${what}: no F2 read`);
    assert.equal(ask('f1', cred(cam1.rtspUser, PASS, 'cam1', 'publish')).result, 'forbidden', `${what}: no F1 publish`);
    assert.equal(ask('f1', cred(cam1.rtspUser, PASS, 'cam2')).result, 'forbidden', `${what}: another camera's F1`);
    assert.equal(ask('f1', cred(cam1.rtspUser, PASS, 'cam3')).result, 'forbidden', `${what}: an unleased camera`);
    // Another lease's camera: its F2 is leased to another token, and this credential has no right there anyway.
    const other = ask('f2', cred(cam1.rtspUser, PASS, 'cam2', 'publish'));
    assert.deepEqual(other, { result: 'forbidden', leaseUser: cam1.rtspUser }, `${what}: another camera's F2`);
    assert.equal(ask('f2', cred(cam1.rtspUser, 'wrong', 'cam1', 'publish')).result, 'unauthorized', what);
    assert.equal(ask('f2', cred(cam2.rtspUser, PASS, 'cam1', 'publish')).result, 'unauthorized', `${what}: the pair`);
    assert.equal(ask('f1', cred('lease-nobody', PASS, 'cam1')).result, 'unauthorized', `${what}: the user decides`);
    // Released or expired: the worker's lease list no longer has it.
    const left = new Map([['cam2', cam2]]);
    const gone = decideRtsp(tables, 'f2', cred(cam1.rtspUser, PASS, 'cam1', 'publish'), left);
    assert.equal(gone.result, 'unauthorized', `${what}: after the lease`);
  }
  // Basic with another user name and the lease's password: unlike a token, the user name counts.
  assert.equal(ask('f1', basic('anyone', PASS, 'cam1')).result, 'unauthorized');
  // The holder's API token still publishes its leased camera; a leased credential does not open the token's rights.
  assert.equal(ask('f2', digest('abc123abc123', SECRET, 'cam1', 'publish')).result, 'ok');
  assert.equal(ask('f2', digest('def456def456', OTHER, 'cam1', 'publish')).result, 'forbidden');
});
