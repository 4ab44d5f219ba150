import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JpegSplitter } from '../../../app/media/mjpeg/jpeg-splitter.js';

/** A structurally valid little JPEG: SOI, an APP segment with `app` inside, SOS with `scan` as entropy data, EOI. */
function jpeg(scan: number[], app: number[] = [0x4a, 0x46, 0x49, 0x46, 0x00]): Buffer {
  const seg = (marker: number, body: number[]) => [
    0xff,
    marker,
    (body.length + 2) >> 8,
    (body.length + 2) & 0xff,
    ...body,
  ];
  return Buffer.from([0xff, 0xd8, ...seg(0xe0, app), ...seg(0xda, [1, 1, 0, 0, 63, 0]), ...scan, 0xff, 0xd9]);
}

function split(chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const s = new JpegSplitter((j) => out.push(j));
  for (const c of chunks) s.push(c);
  return out;
}

test('whole images from a stream cut at every possible place', () => {
  const images = [jpeg([1, 2, 3]), jpeg([4, 0xff, 0x00, 5]), jpeg([6, 0xff, 0xd3, 7])]; // stuffed FF and a restart marker
  const all = Buffer.concat(images);
  for (let cut = 1; cut < all.length; cut++) {
    assert.deepEqual(split([all.subarray(0, cut), all.subarray(cut)]), images, `cut at ${cut}`);
  }
  assert.deepEqual(split([...all].map((b) => Buffer.from([b]))), images, 'one byte at a time');
});

test('an FF D9 inside a header segment (e.g. an EXIF thumbnail) does not end the image', () => {
  const image = jpeg([9, 9], [0x45, 0x78, 0xff, 0xd8, 0x00, 0xff, 0xd9, 0x01]);
  assert.deepEqual(split([image]), [image]);
});

test('bytes before a start marker and a broken image are skipped; the next image still comes out', () => {
  const good = jpeg([1, 2]);
  const broken = Buffer.from([0xff, 0xd8, 0x12, 0x34]); // not a marker after SOI
  assert.deepEqual(split([Buffer.from([0, 1, 0xff, 2]), broken, good]), [good]);
});

test('reset() drops a partial image (a restarted writer); an oversize image is dropped', () => {
  const out: Buffer[] = [];
  const s = new JpegSplitter((j) => out.push(j), 64);
  const a = jpeg([1, 2, 3]);
  s.push(a.subarray(0, 10));
  assert.ok(s.pending > 0);
  s.reset();
  assert.equal(s.pending, 0);
  s.push(a);
  assert.deepEqual(out, [a]);
  s.push(jpeg(new Array<number>(100).fill(7)).subarray(0, 90)); // > 64 bytes without an end
  assert.equal(s.pending, 0);
});
