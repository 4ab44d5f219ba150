import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineRing, LineSplitter, MAX_LINE_CHARS } from '../../../app/supervisor/line-ring.js';

test('LineRing keeps the last N lines, oldest first', () => {
  const ring = new LineRing(3);
  for (let i = 1; i <= 5; i++) ring.push(`l${i}`);
  assert.deepEqual(ring.toArray(), ['l3', 'l4', 'l5']);
  const copy = ring.toArray();
  copy.push('x');
  assert.equal(ring.toArray().length, 3, 'callers get a copy');
});

test('LineSplitter handles chunks split mid-line, CRLF, lone CR and a missing final newline', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.write('hel');
  s.write('lo\r\nwor');
  s.write('ld\rframe=1\n\n');
  s.write('tail');
  assert.deepEqual(lines, ['hello', 'world', 'frame=1']);
  s.flush();
  assert.deepEqual(lines, ['hello', 'world', 'frame=1', 'tail']);
});

test('LineSplitter bounds memory when a child never prints a newline', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  for (let i = 0; i < 10; i++) s.write('x'.repeat(1000));
  assert.equal(lines.length, 3, 'a 3000-char partial is flushed as a (truncated) line');
  assert.ok(lines.every((l) => l.length <= MAX_LINE_CHARS + 1));
});
