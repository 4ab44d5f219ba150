/** The client's parser of camera output: framing, limits, and a fuzz run proving it never throws or depends on chunking. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseParser, type ClientItem } from '../../../app/media/rtsp-client/response-parser.js';
import { frame, prng, randomChunks, SDP } from '../rtsp/parser-fixtures.js';

/** What a camera sends a client: a challenge, an SDP, frames, a server→client request, stray line ends. */
const VALID: Buffer[] = [
  Buffer.from(
    'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="cam", nonce="n1"\r\n' +
      'WWW-Authenticate: Basic realm="cam"\r\n\r\n',
  ),
  Buffer.from(
    `RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Base: rtsp://h/s/\r\nContent-Type: application/sdp\r\n` +
      `Content-Length: ${SDP.length}\r\n\r\n${SDP}`,
  ),
  Buffer.from('RTSP/1.0 200 OK\nCSeq: 4\nSession: abc;timeout=60\nTransport: RTP/AVP/TCP;interleaved=0-1\n\n'),
  frame(0, Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x65, 1, 2, 3])),
  frame(1, Buffer.alloc(0)),
  Buffer.from('\r\n'),
  Buffer.from('GET_PARAMETER rtsp://client RTSP/1.0\r\nCSeq: 77\r\nContent-Length: 3\r\n\r\nabc'),
  Buffer.from('RTSP/1.0 200\r\nCSeq: 5\r\nbroken header line\r\nX-Folded: a\r\n  b\r\n\r\n'),
];

function norm(items: ClientItem[]): unknown[] {
  return items.map((i) => {
    if (i.kind === 'frame') return ['frame', i.channel, i.payload.toString('hex')];
    if (i.kind === 'request') return ['request', i.method, i.cseq];
    if (i.kind === 'error') return ['error', i.reason];
    const r = i.reply;
    return ['response', r.status, r.reason, [...r.headers], r.authenticate, r.body.toString('hex')];
  });
}

const parse = (chunks: Buffer[], parser = new ResponseParser()) => chunks.flatMap((c) => parser.push(c));

test('responses with bodies and every challenge, frames, server requests and lenient headers, in order', () => {
  const items = parse([Buffer.concat(VALID)]);
  assert.deepEqual(
    items.map((i) => i.kind),
    ['response', 'response', 'response', 'frame', 'frame', 'request', 'response'],
  );
  const [challenge, described, setup, , empty, request, last] = items;
  assert.ok(challenge?.kind === 'response' && described?.kind === 'response' && setup?.kind === 'response');
  assert.equal(challenge.reply.status, 401);
  assert.equal(challenge.reply.reason, 'Unauthorized');
  assert.deepEqual(challenge.reply.authenticate, ['Digest realm="cam", nonce="n1"', 'Basic realm="cam"']);
  assert.equal(described.reply.body.toString(), SDP);
  assert.equal(described.reply.headers.get('content-base'), 'rtsp://h/s/');
  assert.equal(setup.reply.headers.get('session'), 'abc;timeout=60', 'bare LF line ends are accepted');
  assert.ok(empty?.kind === 'frame' && empty.payload.length === 0);
  assert.deepEqual(request?.kind === 'request' && [request.method, request.cseq], ['GET_PARAMETER', '77']);
  assert.ok(last?.kind === 'response');
  assert.equal(last.reply.reason, '');
  assert.equal(last.reply.headers.get('x-folded'), 'a b');
  assert.equal(last.reply.headers.has('broken header line'), false, 'an unreadable header line is skipped');
});

test('limits and malformed input end the stream with one error, after which nothing is parsed', () => {
  const cases: Array<[string, Buffer]> = [
    ['header block too large', Buffer.from(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(20_000)}`)],
    ['body too large', Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 70000\r\n\r\n')],
    ['invalid Content-Length', Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n')],
    ['malformed start line', Buffer.from('HTTP/1.1 200 OK\r\n\r\n')],
    ['malformed start line', Buffer.from('\x00\x01garbage\r\n\r\n')],
  ];
  for (const [reason, input] of cases) {
    const parser = new ResponseParser();
    assert.deepEqual(norm(parser.push(input)), [['error', reason]], reason);
    assert.deepEqual(parser.push(Buffer.concat(VALID)), [], 'dead after an error');
  }
  const partial = new ResponseParser();
  assert.deepEqual(partial.push(Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\n')), [], 'waits for the rest');
  assert.equal(norm(partial.push(Buffer.from('\r\n'))).length, 1);
});

test('chunking never changes the result', () => {
  const whole = norm(parse([Buffer.concat(VALID)]));
  const rnd = prng(7);
  for (let i = 0; i < 500; i++) {
    assert.deepEqual(norm(parse(randomChunks(Buffer.concat(VALID), rnd, 1 + (i % 40)))), whole);
  }
});

test('fuzz: 20 000 random and mutated inputs never throw, stay bounded and do not depend on chunking', () => {
  const rnd = prng(20240611);
  const base = Buffer.concat(VALID);
  const started = performance.now();
  for (let i = 0; i < 20_000; i++) {
    let input: Buffer;
    if (i % 4 === 0) {
      input = Buffer.alloc(1 + Math.floor(rnd() * 400));
      for (let j = 0; j < input.length; j++) input[j] = Math.floor(rnd() * 256);
      if (rnd() < 0.3) input[0] = 0x24;
    } else {
      input = Buffer.from(base);
      const edits = 1 + Math.floor(rnd() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * input.length);
        const op = rnd();
        if (op < 0.5) input[at] = Math.floor(rnd() * 256);
        else if (op < 0.75)
          input = Buffer.concat([input.subarray(0, at), input.subarray(at + 1 + Math.floor(rnd() * 20))]);
        else
          input = Buffer.concat([
            input.subarray(0, at),
            Buffer.from(['\r\n', '$', ':', ' ', '\n\n'][e % 5]!),
            input.subarray(at),
          ]);
      }
    }
    const whole = norm(parse([input]));
    const chunked = norm(parse(randomChunks(input, rnd, 1 + Math.floor(rnd() * 64))));
    assert.deepEqual(chunked, whole, `input ${i} (${input.toString('hex').slice(0, 200)})`);
    for (const item of parse([input])) {
      if (item.kind === 'frame') assert.ok(item.payload.length <= 0xffff);
      if (item.kind === 'response') assert.ok(item.reply.body.length <= 64 * 1024);
    }
  }
  const ms = performance.now() - started;
  assert.ok(ms < 30_000, `took ${Math.round(ms)} ms`);
});
