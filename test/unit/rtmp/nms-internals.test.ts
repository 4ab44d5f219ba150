/**
 * The node-media-server internals the RTMP ingest relies on or patches. These fail when an upgrade changes them:
 * then re-read README "Traps" and check every patch and override still holds (or is no longer needed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { silentLogger } from '../../../app/log/logger.js';
import { FlvTap } from '../../../app/media/rtmp/flv-tap.js';
import { redirectNmsLogger } from '../../../app/media/rtmp/nms-logger.js';
import { BroadcastServer, NMS_FILES, NMS_VERSION, Rtmp, RtmpSession } from '../../../app/media/rtmp/nms.js';
import type { NmsAvPacket, NmsRtmp } from '../../../app/media/rtmp/nms-types.js';
import {
  MAX_CHUNK_STREAMS,
  MAX_MESSAGE_BYTES,
  nmsPatched,
  originals,
  protocolError,
} from '../../../app/media/rtmp/nms-patches.js';
import { amf0, chunkMessage, type Amf0 } from '../../integration/rtmp/raw-rtmp-client.js';

const require = createRequire(import.meta.url);
// NMS logs through console.log; keep the test output readable.
redirectNmsLogger(silentLogger());
const source = (file: string): string => readFileSync(require.resolve(file), 'utf8');
/** The source with whitespace collapsed, so that reformatting upstream does not matter. */
const flat = (file: string): string => source(file).replace(/\s+/g, ' ');

/** C0 + C1 + C2 as a client sends them (simple handshake). */
const HANDSHAKE = Buffer.concat([Buffer.from([3]), Buffer.alloc(1536 * 2)]);

function connectCommand(tcUrl: string | undefined): Buffer {
  const cmdObj: Amf0 = tcUrl === undefined ? { app: 'live' } : { app: 'live', tcUrl };
  return chunkMessage(3, 20, 0, Buffer.concat([amf0('connect'), amf0(1), amf0(cmdObj)]));
}

/** A bare protocol parser with its output captured. */
function parser(): { rtmp: NmsRtmp; out: Buffer[] } {
  const rtmp = new Rtmp();
  const out: Buffer[] = [];
  rtmp.onOutputCallback = (b: Buffer) => void out.push(b);
  return { rtmp, out };
}

test('the installed node-media-server is the version this folder was written against', () => {
  assert.equal((require('node-media-server/package.json') as { version: string }).version, NMS_VERSION);
  assert.equal(nmsPatched(), true);
});

test('trap 1 is still upstream: the original onConnect throws on a malformed tcUrl (rtmp.js:695)', () => {
  const { rtmp } = parser();
  assert.throws(
    () => originals.onConnect.call(rtmp, { cmd: 'connect', transId: 1, cmdObj: { app: 'live', tcUrl: 'not a url' } }),
    { code: 'ERR_INVALID_URL' },
  );
  assert.match(
    flat(NMS_FILES.rtmp),
    /onConnect\(invokeMessage\) \{ const url = new URL\(invokeMessage\.cmdObj\.tcUrl\);/,
  );
});

test('patched: a malformed or missing tcUrl becomes a sticky parser error, not an exception', () => {
  for (const tcUrl of ['not a url', undefined]) {
    const { rtmp, out } = parser();
    const err = rtmp.parserData(Buffer.concat([HANDSHAKE, connectCommand(tcUrl)]));
    assert.match(String(err), /malformed tcUrl/);
    assert.equal(protocolError(rtmp), err);
    assert.equal(out.length, 1, 'only S0S1S2 was sent: no connect answer');
    // Later data is not parsed at all.
    assert.equal(rtmp.parserData(connectCommand('rtmp://127.0.0.1/live')), err);
    assert.equal(out.length, 1);
  }
});

test('patched parser still accepts a well-formed connect', () => {
  const { rtmp, out } = parser();
  assert.equal(rtmp.parserData(Buffer.concat([HANDSHAKE, connectCommand('rtmp://127.0.0.1:1935/live')])), null);
  assert.ok(Buffer.concat(out).includes('NetConnection.Connect.Success'));
});

test('patched: garbage AMF, oversized messages, chunk-stream floods and chunk size 0 end the session', () => {
  const cases: [string, Buffer, RegExp][] = [
    [
      'truncated AMF0 number',
      chunkMessage(3, 20, 0, Buffer.concat([amf0('connect'), Buffer.from([0, 0x3f])])),
      /threw/,
    ],
    ['unknown AMF0 type', chunkMessage(3, 20, 0, Buffer.concat([amf0('connect'), Buffer.from([0x42, 0x42])])), /threw/],
    ['16 MB message', header(4, 9, 0xfffff0, 1), new RegExp(`max ${MAX_MESSAGE_BYTES}`)],
    ['chunk size 0', chunkMessage(2, 1, 0, Buffer.alloc(4)), /invalid chunk size 0/],
    [
      'too many chunk streams',
      Buffer.concat(Array.from({ length: MAX_CHUNK_STREAMS + 2 }, (_, i) => header(64 + i, 9, 10, 10))),
      /chunk streams/,
    ],
  ];
  for (const [what, bytes, expected] of cases) {
    const { rtmp } = parser();
    let err: string | null = null;
    assert.doesNotThrow(() => (err = rtmp.parserData(Buffer.concat([HANDSHAKE, bytes]))), what);
    assert.match(String(err), expected, what);
  }
});

/** A type-0 chunk on `csid` (2..319) announcing a `length`-byte message of `type`, plus `payload` zero bytes. */
function header(csid: number, type: number, length: number, payload = 0): Buffer {
  const basic = csid < 64 ? Buffer.from([csid]) : Buffer.from([0, csid - 64]);
  const h = Buffer.alloc(11 + payload);
  h.writeUIntBE(length, 3, 3);
  h[6] = type;
  return Buffer.concat([basic, h]);
}

test('RtmpSession: handlers are per-instance properties and onData ends the socket on a returned error', () => {
  const fakeSocket = { remoteAddress: '127.0.0.1', remotePort: 1, on: () => undefined };
  const session = new RtmpSession(fakeSocket as never) as unknown as Record<string, unknown>;
  for (const k of ['run', 'onData', 'onPacket', 'sendBuffer', 'onPush', 'onPlay', 'onConnect', 'onClose']) {
    assert.equal(Object.hasOwn(session, k), true, `RtmpSession.${k} is an own property`);
  }
  const s = flat(NMS_FILES.rtmpSession);
  assert.match(s, /run = \(\) => \{ this\.rtmp\.onConnectCallback = this\.onConnect;/);
  assert.match(s, /this\.socket\.on\("data", this\.onData\);/);
  assert.match(s, /let err = this\.rtmp\.parserData\(data\); if \(err != null\) \{ .*?this\.socket\.end\(\); \} \};/);
  assert.match(s, /onPacket = \(packet\) => \{ this\.broadcast\.broadcastMessage\(packet\); \};/);
  assert.match(s, /sendBuffer = \(buffer\) => \{ [^}]*this\.socket\.write\(buffer\); \};/);
});

test('rtmp.js: publish/play answer before the session callbacks run (why the ingest overrides them)', () => {
  const s = flat(NMS_FILES.rtmp);
  assert.match(s, /this\.respondPublish\(\); this\.onConnectCallback\(\{[^}]*\}\); this\.onPushCallback\(\);/);
  assert.match(s, /this\.respondPlay\(\); this\.onConnectCallback\(\{[^}]*\}\); this\.onPlayCallback\(\);/);
  assert.match(s, /case "publish": this\.onPublish\(invokeMessage\);/);
});

test('rtmp_server.js: what the ingest does per socket instead of NodeRtmpServer, and why (process.exit)', () => {
  const s = flat(NMS_FILES.rtmpServer);
  assert.match(s, /const session = new RtmpSession\(socket\); session\.run\(\); Context\.sessions\.set/);
  assert.match(s, /process\.exit\(1\);/);
});

test('BroadcastServer replays metadata, audio config, video config, then the GOP to a late flv subscriber', () => {
  const b = new BroadcastServer('/live/internals-test') as unknown as {
    broadcastMessage(p: NmsAvPacket): void;
    postPlay(s: FlvTap): string | null;
    donePlay(s: FlvTap): void;
  };
  const packet = (codec_type: number, flags: number, dts: number, bytes: number[]): NmsAvPacket => {
    const data = Buffer.from(bytes);
    return { codec_type, flags, dts, pts: dts, codec_id: 0, size: data.length, data };
  };
  const meta = Buffer.concat([amf0('@setDataFrame'), amf0('onMetaData'), amf0({ width: 640 })]);
  b.broadcastMessage(packet(9, 2, 0, [0x17, 0, 0, 0, 0, 1]));
  b.broadcastMessage(packet(18, 5, 0, [...meta]));
  b.broadcastMessage(packet(8, 0, 0, [0xaf, 0, 0x12, 0x10]));
  b.broadcastMessage(packet(9, 3, 40, [0x17, 1, 0, 0, 0, 9]));
  b.broadcastMessage(packet(8, 1, 41, [0xaf, 1, 7]));
  b.broadcastMessage(packet(9, 4, 80, [0x27, 1, 0, 0, 0, 8]));
  const got: string[] = [];
  const tap = new FlvTap(
    (type, ts, body) => got.push(`${type}@${ts}:${body.subarray(0, 2).toString('hex')}`),
    () => {},
  );
  assert.equal(b.postPlay(tap), null);
  assert.deepEqual(got, ['18@0:0200', '8@0:af00', '9@0:1700', '9@40:1701', '8@41:af01', '9@80:2701']);
  b.broadcastMessage(packet(9, 4, 120, [0x27, 1, 0, 0, 0, 7]));
  assert.equal(got[got.length - 1], '9@120:2701', 'live tags follow');
  b.donePlay(tap);
});
