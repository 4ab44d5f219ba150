import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { digestHa1, digestResponse } from '../../../app/media/rtsp/auth.js';
import type { AuthorizeRequest } from '../../../app/media/rtsp/types.js';
import type { AccessTables } from '../../../app/media/worker/protocol.js';
import { authorizeRtsp } from '../../../app/media/worker/rtsp-policy.js';

const SECRET = 'cpt_abc123abc123_s3cret';
const tables: AccessTables = {
  cameras: [],
  tokens: [
    {
      id: 'abc123abc123',
      hash: createHash('sha256').update(SECRET).digest('base64url'),
      ha1: digestHa1('abc123abc123', SECRET),
    },
  ],
  users: [{ user: 'viewer', password: 'viewer-pass', read: ['cam1', 'site-a/*'], publish: [] }],
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
