/** RFC 6184 mode 1: single NAL unit packets vs FU-A, the FU bits, the marker, sequence wrap, SPS/PPS before IDR. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H264Packetizer } from '../../../app/media/bridge/h264-packetizer.js';
import { idr, nal, PPS, SPS, slice } from './fixtures.js';

const sets = { sps: [SPS.high640x360], pps: [PPS] };

function header(p: Buffer) {
  return {
    version: p[0]! >> 6,
    marker: (p[1]! & 0x80) !== 0,
    pt: p[1]! & 0x7f,
    seq: p.readUInt16BE(2),
    ts: p.readUInt32BE(4),
    ssrc: p.readUInt32BE(8),
  };
}

/** Rebuilds NAL units from packets the way a depacketizer does. */
function depacketize(packets: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let fu: Buffer[] = [];
  for (const p of packets) {
    const payload = p.subarray(12);
    if ((payload[0]! & 0x1f) !== 28) {
      out.push(payload);
      continue;
    }
    if (payload[1]! & 0x80) fu = [Buffer.from([(payload[0]! & 0xe0) | (payload[1]! & 0x1f)])];
    fu.push(payload.subarray(2));
    if (payload[1]! & 0x40) out.push(Buffer.concat(fu));
  }
  return out;
}

test('a NAL of exactly the budget is one packet; one byte more is two FU-A fragments', () => {
  const pk = new H264Packetizer({ maxPayloadBytes: 1200, ssrc: 1, initialSequence: 0, timestampOffset: 0 });
  const single = pk.packetize([slice(1200)], 0, false);
  assert.equal(single.length, 1);
  assert.equal(single[0]!.length, 12 + 1200);
  assert.deepEqual(single[0]!.subarray(12), slice(1200));
  const big = idr(1201);
  const frags = pk.packetize([big], 0, false, undefined);
  assert.equal(frags.length, 2);
  assert.ok(frags.every((p) => p.length <= 12 + 1200));
  assert.deepEqual(depacketize(frags), [big]);
});

test('FU-A indicator keeps F and NRI, header has S on the first, E on the last, and the NAL type', () => {
  const pk = new H264Packetizer({ maxPayloadBytes: 100, timestampOffset: 0 });
  const unit = nal(0x25, 450); // NRI 1, IDR
  const packets = pk.packetize([unit], 0, true);
  assert.equal(packets.length, Math.ceil(449 / 98));
  packets.forEach((p, i) => {
    const [indicator, fuHeader] = [p[12]!, p[13]!];
    assert.equal(indicator, 0x20 | 28);
    assert.equal(fuHeader & 0x1f, 5);
    assert.equal((fuHeader & 0x80) !== 0, i === 0, `S bit of ${i}`);
    assert.equal((fuHeader & 0x40) !== 0, i === packets.length - 1, `E bit of ${i}`);
    assert.equal(fuHeader & 0x20, 0, 'R bit');
  });
  assert.deepEqual(depacketize(packets), [unit]);
});

test('marker only on the last packet of an access unit; one timestamp for the whole unit', () => {
  const pk = new H264Packetizer({ maxPayloadBytes: 500, timestampOffset: 1000, payloadType: 96 });
  const packets = pk.packetize([nal(0x06, 30), slice(1400), slice(200)], 3600, false);
  const h = packets.map(header);
  assert.deepEqual(
    h.map((x) => x.marker),
    h.map((_, i) => i === h.length - 1),
  );
  assert.ok(h.every((x) => x.ts === 4600 && x.version === 2 && x.pt === 96));
  assert.ok(h.every((x) => x.ssrc === pk.rtp.ssrc));
});

test('sequence numbers increase by one and wrap at 16 bits; timestamps wrap at 32 bits', () => {
  const pk = new H264Packetizer({ initialSequence: 65534, timestampOffset: 0xfffffff0 });
  const seqs = [0, 1, 2, 3].flatMap((i) => pk.packetize([slice(10)], i * 3600, false).map((p) => header(p)));
  assert.deepEqual(
    seqs.map((h) => h.seq),
    [65534, 65535, 0, 1],
  );
  assert.deepEqual(
    seqs.map((h) => h.ts),
    [0xfffffff0, 3600 - 16, 7200 - 16, 10800 - 16],
  );
});

test('SPS and PPS go in front of every IDR (after dropping the AUD, before the SEI) unless already there', () => {
  const pk = new H264Packetizer({ timestampOffset: 0 });
  const aud = Buffer.from([0x09, 0xf0]);
  const sei = nal(0x06, 20);
  const types = (packets: Buffer[]) => depacketize(packets).map((n) => n[0]! & 0x1f);
  assert.deepEqual(types(pk.packetize([aud, sei, idr(3000)], 0, true, sets)), [7, 8, 6, 5]);
  assert.deepEqual(types(pk.packetize([aud, slice(100)], 0, false, sets)), [1]);
  // An IDR without the FLV key frame flag still gets them; a unit with its own SPS is left alone.
  assert.deepEqual(types(pk.packetize([idr(100)], 0, false, sets)), [7, 8, 5]);
  assert.deepEqual(types(pk.packetize([SPS.high1080p, PPS, idr(100)], 0, true, sets)), [7, 8, 5]);
  // Filler data, and NAL types that RTP would read as STAP/FU, are never sent.
  assert.deepEqual(types(pk.packetize([nal(0x0c, 50), nal(0x1c, 9), slice(10)], 0, false)), [1]);
  assert.deepEqual(pk.packetize([aud], 0, false, sets), []);
});
