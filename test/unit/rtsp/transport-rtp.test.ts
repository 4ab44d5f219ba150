/** The Transport header, and the RTP fields and join points the fan-out relies on. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJoinPoint, joinRule, payloadOffset, rtpHeader } from '../../../app/media/rtsp/rtp-packet.js';
import { chooseTransport, formatTransport } from '../../../app/media/rtsp/transport-header.js';

test('Transport: TCP interleaved, UDP client ports, record mode, fallbacks and refusals', () => {
  assert.deepEqual(chooseTransport('RTP/AVP/TCP;unicast;interleaved=2-3;mode=record', true), {
    kind: 'tcp',
    interleaved: [2, 3],
    record: true,
  });
  assert.deepEqual(chooseTransport('RTP/AVP;unicast;client_port=5000-5001', true), {
    kind: 'udp',
    clientPorts: [5000, 5001],
    record: false,
  });
  assert.deepEqual(chooseTransport('RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast', false), {
    kind: 'tcp',
    record: false,
  });
  assert.equal(chooseTransport('RTP/AVP;multicast;destination=224.1.1.1', true), null);
  assert.equal(chooseTransport('RTP/AVP;unicast;client_port=99999', true), null);
  assert.equal(chooseTransport('RTP/SAVP;unicast;client_port=5000-5001', true), null);
  assert.equal(chooseTransport(undefined, true), null);
  assert.equal(
    formatTransport({ kind: 'udp', clientPorts: [5000, 5001], record: true }, { serverPorts: [8000, 8001] }),
    'RTP/AVP;unicast;client_port=5000-5001;server_port=8000-8001;mode=record',
  );
});

function rtp(payload: number[], opts: { csrc?: number; ext?: number } = {}): Buffer {
  const head = Buffer.alloc(12);
  head[0] = 0x80 | (opts.ext !== undefined ? 0x10 : 0) | (opts.csrc ?? 0);
  head[1] = 0x80 | 96;
  head.writeUInt16BE(4242, 2);
  head.writeUInt32BE(90000, 4);
  const csrc = Buffer.alloc(4 * (opts.csrc ?? 0));
  const ext = opts.ext === undefined ? Buffer.alloc(0) : Buffer.alloc(4 + 4 * opts.ext);
  if (opts.ext !== undefined) ext.writeUInt16BE(opts.ext, 2);
  return Buffer.concat([head, csrc, ext, Buffer.from(payload)]);
}

test('RTP header fields and payload offset with CSRCs and an extension', () => {
  assert.deepEqual(rtpHeader(rtp([0x65])), { seq: 4242, timestamp: 90000, marker: true });
  assert.equal(rtpHeader(Buffer.alloc(11)), null);
  assert.equal(payloadOffset(rtp([1], { csrc: 2, ext: 1 })), 12 + 8 + 8);
  assert.equal(payloadOffset(rtp([], { ext: 1 })), -1);
});

test('join points: H.264 IDR, SPS, STAP-A and FU-A start; H.265 IRAP, AP and FU; other codecs at once', () => {
  const h264 = joinRule('H264');
  assert.equal(isJoinPoint(h264, rtp([0x65, 0x88])), true, 'IDR');
  assert.equal(isJoinPoint(h264, rtp([0x67, 0x64])), true, 'SPS');
  assert.equal(isJoinPoint(h264, rtp([0x41, 0x9a])), false, 'P slice');
  assert.equal(isJoinPoint(h264, rtp([0x78, 0, 2, 0x06, 0, 0, 2, 0x67, 0])), true, 'STAP-A with SEI then SPS');
  assert.equal(isJoinPoint(h264, rtp([0x7c, 0x85, 0])), true, 'FU-A start of an IDR');
  assert.equal(isJoinPoint(h264, rtp([0x7c, 0x05, 0])), false, 'FU-A middle of an IDR');
  const h265 = joinRule('H265');
  assert.equal(isJoinPoint(h265, rtp([19 << 1, 1])), true, 'IDR_W_RADL');
  assert.equal(isJoinPoint(h265, rtp([32 << 1, 1])), true, 'VPS');
  assert.equal(isJoinPoint(h265, rtp([1 << 1, 1])), false, 'TRAIL_R');
  assert.equal(isJoinPoint(h265, rtp([48 << 1, 1, 0, 2, 33 << 1, 1])), true, 'AP with an SPS');
  assert.equal(isJoinPoint(h265, rtp([49 << 1, 1, 0x80 | 20])), true, 'FU start of a CRA');
  assert.equal(isJoinPoint(h265, rtp([49 << 1, 1, 20])), false, 'FU continuation');
  assert.equal(isJoinPoint(joinRule('opus'), rtp([1])), true);
  assert.equal(isJoinPoint(joinRule('MPEG4-GENERIC'), rtp([1])), true);
});
