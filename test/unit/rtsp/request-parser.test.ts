/** The RTSP parser: framing, limits, and a fuzz run proving it never throws and does not depend on chunking. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RtspParser, type ParsedItem } from '../../../app/media/rtsp/request-parser.js';
import { frame, prng, randomChunks, SDP } from './parser-fixtures.js';

const LIMITS = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 };

/** A realistic publisher conversation: requests, a body, interleaved frames, stray CRLF and a response. */
const VALID: Buffer[] = [
  Buffer.from('OPTIONS rtsp://127.0.0.1:8554/cam1 RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\n'),
  Buffer.from(
    `ANNOUNCE rtsp://127.0.0.1:8554/cam1 RTSP/1.0\r\nContent-Type: application/sdp\r\nCSeq: 2\r\n` +
      `Content-Length: ${SDP.length}\r\n\r\n${SDP}`,
  ),
  Buffer.from('SETUP rtsp://h/cam1/streamid=0 RTSP/1.0\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\nCSeq: 3\n\n'),
  frame(0, Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x65, 1, 2, 3])),
  frame(1, Buffer.alloc(0)),
  Buffer.from('\r\n'),
  Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 9\r\n\r\n'),
  Buffer.from('GET_PARAMETER rtsp://h/cam1 RTSP/1.0\r\nCSeq: 4\r\nX-Folded: a\r\n  b\r\nSession: abc\r\n\r\n'),
];

/** Items made comparable (payload views become hex). */
function norm(items: ParsedItem[]): unknown[] {
  return items.map((i) => {
    if (i.kind === 'frame') return ['frame', i.channel, i.payload.toString('hex')];
    if (i.kind === 'request') {
      const r = i.request;
      return ['request', r.method, r.uri, r.version, [...r.headers], r.body.toString('hex')];
    }
    if (i.kind === 'response') return ['response', i.status, [...i.headers]];
    return ['error', i.status, i.reason, i.cseq];
  });
}

function parseChunks(chunks: Buffer[], limits = LIMITS): ParsedItem[] {
  const parser = new RtspParser(limits);
  return chunks.flatMap((c) => parser.push(c));
}

/** Splits `input` into chunks of random sizes (1..maxChunk). */

test('parses requests, bodies, folded headers, frames and responses in order', () => {
  const items = parseChunks([Buffer.concat(VALID)]);
  assert.deepEqual(
    items.map((i) => i.kind),
    ['request', 'request', 'request', 'frame', 'frame', 'response', 'request'],
  );
  const announce = items[1];
  assert.ok(announce?.kind === 'request');
  assert.equal(announce.request.method, 'ANNOUNCE');
  assert.equal(announce.request.headers.get('content-type'), 'application/sdp');
  assert.equal(announce.request.body.toString(), SDP);
  const last = items[6];
  assert.ok(last?.kind === 'request');
  assert.equal(last.request.headers.get('x-folded'), 'a b');
  assert.equal(last.request.headers.get('session'), 'abc');
});

test('a valid conversation split at every byte boundary parses identically', () => {
  const input = Buffer.concat(VALID);
  const whole = norm(parseChunks([input]));
  for (let i = 0; i <= input.length; i++) {
    assert.deepEqual(norm(parseChunks([input.subarray(0, i), input.subarray(i)])), whole, `split at ${i}`);
  }
  assert.deepEqual(norm(parseChunks([...input].map((b) => Buffer.from([b])))), whole, 'byte by byte');
});

test('malformed input: one fatal error with the right status, then silence', () => {
  const cases: [string | Buffer, number][] = [
    ['GARBAGE\r\n\r\n', 400],
    ['DESCRIBE foo\r\n\r\n', 400],
    ['DESCRIBE rtsp://h/x HTTP/1.1\r\nCSeq: 1\r\n\r\n', 400],
    ['DESCRIBE rtsp://h/x RTSP/2.0\r\nCSeq: 1\r\n\r\n', 505],
    ['OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n', 400],
    ['OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n', 400],
    ['ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 7\r\nContent-Length: 99999999\r\n\r\n', 413],
    [Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0a, 0x0a]), 400],
  ];
  for (const [input, status] of cases) {
    const parser = new RtspParser(LIMITS);
    const items = parser.push(Buffer.from(input));
    assert.equal(items.length, 1, String(input));
    assert.ok(items[0]?.kind === 'error' && items[0].status === status, `${String(input)} → ${JSON.stringify(items)}`);
    assert.equal(parser.failed, true);
    assert.deepEqual(parser.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n')), []);
  }
  const withCseq = parseChunks([
    Buffer.from('ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 7\r\nContent-Length: 70000\r\n\r\n'),
  ]);
  assert.deepEqual(norm(withCseq), [['error', 413, 'body too large', '7']]);
});

test('a 1 MB header line fails after the 16 KB cap without buffering the rest', () => {
  const parser = new RtspParser(LIMITS);
  const chunk = Buffer.alloc(1024, 'a');
  let pushed = 0;
  let items: ParsedItem[] = [];
  while (items.length === 0 && pushed < 1024 * 1024) {
    items = parser.push(chunk);
    pushed += chunk.length;
  }
  assert.equal(items[0]?.kind, 'error');
  assert.ok(pushed <= LIMITS.maxHeaderBytes + 4 * 1024, `failed after ${pushed} bytes`);
  assert.equal(parser.hasPartial, false);
});

test('fuzz: 40k random and mutated inputs in random chunks never throw, and chunking never changes the result', () => {
  const rnd = prng(0xc0ffee);
  const valid = Buffer.concat(VALID);
  const small = { maxHeaderBytes: 512, maxBodyBytes: 256 };
  let errors = 0;
  for (let n = 0; n < 40_000; n++) {
    const input = n % 4 === 0 ? randomBytes(rnd, 1 + Math.floor(rnd() * 600)) : mutate(valid, rnd);
    const limits = n % 3 === 0 ? small : LIMITS;
    const whole = parseChunks([input], limits);
    const chunked = parseChunks(randomChunks(input, rnd, 1 + Math.floor(rnd() * 64)), limits);
    assert.deepEqual(norm(chunked), norm(whole), `input #${n}: ${input.toString('hex')}`);
    const firstError = whole.findIndex((i) => i.kind === 'error');
    if (firstError >= 0) {
      errors++;
      assert.equal(firstError, whole.length - 1, 'nothing after a fatal error');
    }
  }
  assert.ok(errors > 1000, `the fuzzer reached the error paths (${errors})`);
});

function randomBytes(rnd: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  // Bias towards the bytes the parser cares about, so the fuzzer reaches its branches.
  const special = [0x24, 0x0d, 0x0a, 0x3a, 0x20, 0x52, 0x54, 0x53, 0x50, 0x2f, 0x31, 0x2e, 0x30];
  for (let i = 0; i < n; i++)
    out[i] = rnd() < 0.5 ? special[Math.floor(rnd() * special.length)]! : Math.floor(rnd() * 256);
  return out;
}

function mutate(valid: Buffer, rnd: () => number): Buffer {
  let out = Buffer.from(valid);
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * out.length);
    const kind = Math.floor(rnd() * 5);
    if (kind === 0) out[at] = Math.floor(rnd() * 256);
    else if (kind === 1) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(rnd() * 8))]);
    else if (kind === 2)
      out = Buffer.concat([out.subarray(0, at), randomBytes(rnd, 1 + Math.floor(rnd() * 8)), out.subarray(at)]);
    else if (kind === 3) out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(Math.floor(rnd() * out.length)), out.subarray(at)]);
  }
  return out;
}
