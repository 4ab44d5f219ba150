/**
 * The SSE reader against untrusted input: spec cases, then a seeded fuzz run (valid streams, mutated streams, random
 * bytes) where every input is cut into chunks at random places, which must never change what comes out, and an
 * independent whole-input reference parser that must agree when no limit is hit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseReader, type SseItem, type SseLimits } from '../../../app/cluster/sse-reader.js';

const enc = new TextEncoder();

function parseAll(chunks: Array<Uint8Array | string>, limits?: Partial<SseLimits>): { items: SseItem[]; id: string } {
  const r = new SseReader(limits);
  const items: SseItem[] = [];
  for (const c of chunks) items.push(...r.push(c));
  items.push(...r.end());
  return { items, id: r.lastEventId };
}

const events = (items: SseItem[]) => items.filter((i) => i.kind === 'event');

test('fields, multi-line data, ids that persist, retry, comments and all three line endings', () => {
  const text =
    '\uFEFFretry: 2000\n\n: ping 1\n\nid: 7\nevent: stream.online\ndata: {"a":\ndata:1}\n\n' +
    'data: no type\r\n\r\nid\r\rdata:  two spaces\rdata\r\r';
  const { items, id } = parseAll([enc.encode(text)]);
  assert.deepEqual(items, [
    { kind: 'retry', ms: 2000 },
    { kind: 'comment', text: 'ping 1' },
    { kind: 'event', type: 'stream.online', data: '{"a":\n1}', id: '7' },
    { kind: 'event', type: 'message', data: 'no type', id: '7' },
    { kind: 'event', type: 'message', data: ' two spaces\n', id: '' },
  ]);
  assert.equal(id, '');
});

test('an event without data sets the id but dispatches nothing; an unterminated event is dropped at the end', () => {
  const { items, id } = parseAll(['id: 41\n\nid: 42\nevent: x\n\ndata: half']);
  assert.deepEqual(items, []);
  assert.equal(id, '42');
});

test('garbage is skipped and counted, and what follows it still parses', () => {
  const r = new SseReader({ maxLineChars: 100, maxEventChars: 300 });
  const items = [
    ...r.push('bogus: 1\nretry: soon\nid: a\0b\n\n'),
    ...r.push(`data: ${'x'.repeat(150)}\ndata: lost with its line\n\n`),
    ...r.push(`${'data: 12345678901234567890\n'.repeat(15)}\n`),
    ...r.push('event: ok\ndata: fine\n\n'),
  ];
  assert.deepEqual(
    items.map((i) => (i.kind === 'error' ? i.reason : i.kind)),
    ['unknown-field', 'bad-field', 'bad-field', 'line-too-long', 'event-too-large', 'event'],
  );
  assert.deepEqual(items.at(-1), { kind: 'event', type: 'ok', data: 'fine', id: '' });
  assert.equal(r.errors, 5);
});

test('a 10 MB line without a newline costs one error and no memory; the next event parses', () => {
  const r = new SseReader();
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let errors = 0;
  const started = performance.now();
  for (let sent = 0; sent < 10 * 1024 * 1024; sent += chunk.length) errors += r.push(chunk).length;
  const tail = r.push('\ndata: after\n\ndata: next\n\n');
  assert.equal(errors, 1);
  assert.deepEqual(events(tail), [{ kind: 'event', type: 'message', data: 'next', id: '' }]);
  assert.ok(performance.now() - started < 2000, 'linear in the input');
});

test('UTF-8 split across chunks and a CR LF split across chunks read as if whole', () => {
  const bytes = enc.encode('data: grüße 📷\r\n\r\n');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { items } = parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(items, [{ kind: 'event', type: 'message', data: 'grüße 📷', id: '' }], `cut at ${cut}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzz
// ---------------------------------------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so that a failure names a seed that reproduces it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['stream.online', '{"plane":"f1","path":"cam-1"}', 'ü', '📷', ' ', ':', 'x'.repeat(90), '', '\0', '42'];
const EOLS = ['\n', '\r\n', '\r'];

/** A plausible stream: frames of id/event/data/retry/comment lines with mixed line endings. */
function validStream(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let s = rand() < 0.1 ? '\uFEFF' : '';
  const frames = Math.floor(rand() * 12);
  for (let f = 0; f < frames; f++) {
    const lines = 1 + Math.floor(rand() * 5);
    for (let l = 0; l < lines; l++) {
      const field = pick(['data', 'data', 'data', 'event', 'id', 'retry', ':', 'other']);
      const value = field === 'retry' ? String(Math.floor(rand() * 5000)) : pick(WORDS) + pick(WORDS);
      s += `${field === ':' ? ':' : `${field}:`}${rand() < 0.5 ? ' ' : ''}${value}${pick(EOLS)}`;
    }
    s += pick(EOLS);
  }
  return s;
}

/** LF, CR, colon, NUL, a byte never valid in UTF-8, a lead byte without its continuation. */
const SPECIAL = [0x0a, 0x0d, 0x3a, 0x00, 0xff, 0xc3];

/** Flips, inserts, deletes and duplicates bytes. */
function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const out = [...bytes];
  const edits = 1 + Math.floor(rand() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (out.length + 1));
    const op = rand();
    if (op < 0.3 && out.length) out[Math.min(at, out.length - 1)] = Math.floor(rand() * 256);
    else if (op < 0.55) out.splice(at, 0, SPECIAL[Math.floor(rand() * SPECIAL.length)]!);
    else if (op < 0.8) out.splice(at, Math.floor(rand() * 8));
    else out.splice(at, 0, ...out.slice(at, at + Math.floor(rand() * 40)));
  }
  return Uint8Array.from(out);
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

/** Cuts `bytes` into 1..n chunks at random places (often tiny, sometimes one byte each). */
function chunked(bytes: Uint8Array, rand: () => number): Uint8Array[] {
  if (rand() < 0.1) return [...bytes].map((b) => Uint8Array.of(b));
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + Math.floor(rand() * (rand() < 0.5 ? 4 : 64));
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** The spec over the whole input at once, written independently of the reader (no limits). */
function reference(bytes: Uint8Array): { items: SseItem[]; id: string } {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // the text after the last line end is not a line
  const items: SseItem[] = [];
  let id = '';
  let idBuf = '';
  let type = '';
  let data: string[] = [];
  for (const line of lines) {
    if (line === '') {
      id = idBuf;
      if (data.length) items.push({ kind: 'event', type: type || 'message', data: data.join('\n'), id });
      type = '';
      data = [];
    } else if (line[0] === ':') items.push({ kind: 'comment', text: line.slice(1).replace(/^ /, '') });
    else {
      const c = line.indexOf(':');
      const name = c < 0 ? line : line.slice(0, c);
      const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (name === 'data') data.push(value);
      else if (name === 'event') type = value;
      else if (name === 'id') {
        if (value.includes('\0')) items.push({ kind: 'error', reason: 'bad-field', detail: '' });
        else idBuf = value;
      } else if (name === 'retry') {
        if (/^\d{1,9}$/.test(value)) items.push({ kind: 'retry', ms: Number(value) });
        else items.push({ kind: 'error', reason: 'bad-field', detail: '' });
      } else items.push({ kind: 'error', reason: 'unknown-field', detail: '' });
    }
  }
  return { items, id };
}

const noDetail = (items: SseItem[]) => items.map((i) => (i.kind === 'error' ? { ...i, detail: '' } : i));

test('fuzz: chunking never changes the result, nothing throws, limits hold, and the reference agrees', () => {
  const seed = Number(process.env.SSE_FUZZ_SEED ?? 0x5eed);
  const rand = prng(seed);
  const small: SseLimits = { maxLineChars: 120, maxEventChars: 400 };
  let inputs = 0;
  let chunkRuns = 0;
  for (let n = 0; n < 3000; n++) {
    const kind = n % 3;
    const base = enc.encode(validStream(rand));
    const bytes = kind === 0 ? base : kind === 1 ? mutate(base, rand) : randomBytes(rand, Math.floor(rand() * 600));
    inputs++;
    for (const limits of [undefined, small]) {
      const whole = parseAll([bytes], limits);
      if (!limits) {
        assert.deepEqual(noDetail(whole.items), reference(bytes).items, `seed ${seed} input ${n}: reference`);
        assert.equal(whole.id, reference(bytes).id, `seed ${seed} input ${n}: reference id`);
      }
      for (const item of whole.items) {
        if (item.kind !== 'event' || !limits) continue;
        assert.ok(item.data.length <= limits.maxEventChars, `seed ${seed} input ${n}: event over the limit`);
      }
      for (let k = 0; k < 3; k++) {
        chunkRuns++;
        const parts = parseAll(chunked(bytes, rand), limits);
        assert.deepEqual(parts, whole, `seed ${seed} input ${n}: chunking changed the result`);
      }
    }
  }
  assert.ok(inputs === 3000 && chunkRuns === 18_000);
});
