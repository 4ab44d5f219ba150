/** The tap's FLV tag parsing, against tags built by node-media-server's own encoder (what the tap receives). */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { FlvTap, isFlvFileHeader, parseFlvTag } from '../../../app/media/rtmp/flv-tap.js';
import type { NmsAvPacket } from '../../../app/media/rtmp/nms-types.js';

const require = createRequire(import.meta.url);
const Flv = require('node-media-server/src/protocol/flv.js') as {
  createHeader(audio: boolean, video: boolean): Buffer;
  createMessage(p: NmsAvPacket): Buffer;
};

function nmsTag(codec_type: number, dts: number, body: Buffer): Buffer {
  return Flv.createMessage({ codec_type, dts, pts: dts, flags: 0, codec_id: 0, size: body.length, data: body });
}

test('parses NMS tags back to (type, timestamp, body), 32-bit timestamps included', () => {
  for (const [type, ts] of [
    [9, 0],
    [8, 40],
    [18, 0x00ffffff],
    [9, 0x01000000],
    [9, 0xfffffffe],
  ] as const) {
    const body = Buffer.from([type, 1, 2, 3, 4]);
    const tag = parseFlvTag(nmsTag(type, ts, body));
    assert.deepEqual(tag && { ...tag, body: [...tag.body] }, { type, timestampMs: ts, body: [...body] });
  }
});

test('rejects what is not exactly one tag; recognises the FLV file header', () => {
  const tag = nmsTag(9, 1, Buffer.from([0x17, 1]));
  assert.equal(parseFlvTag(tag.subarray(0, tag.length - 1)), null, 'truncated');
  assert.equal(parseFlvTag(Buffer.concat([tag, tag])), null, 'two tags');
  const wrongType = Buffer.from(tag);
  wrongType[0] = 7;
  assert.equal(parseFlvTag(wrongType), null);
  assert.equal(isFlvFileHeader(Flv.createHeader(true, true)), true);
  assert.equal(isFlvFileHeader(tag), false);
});

test('FlvTap skips the file header and contains a throwing listener', () => {
  const problems: string[] = [];
  let calls = 0;
  const tap = new FlvTap(
    () => {
      calls++;
      throw new Error('consumer bug');
    },
    (what) => problems.push(what),
  );
  tap.sendBuffer(Flv.createHeader(true, true));
  for (let i = 0; i < 10; i++) assert.doesNotThrow(() => tap.sendBuffer(nmsTag(9, i, Buffer.from([0x27, 1]))));
  tap.sendBuffer(Buffer.from('junk'));
  assert.equal(calls, 10);
  assert.deepEqual(problems, [
    'tap listener threw',
    'tap listener threw',
    'tap listener threw',
    'tap got 4 bytes that are not one FLV tag',
  ]);
  assert.equal(tap.ip, '', 'internal session for NMS');
  assert.equal(tap.protocol, 'flv');
});
