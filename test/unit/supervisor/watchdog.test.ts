import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watchdog } from '../../../app/supervisor/watchdog.js';

test('fires once after the timeout without activity, reporting the silence', async () => {
  const stalls: number[] = [];
  const w = new Watchdog(60, (ms) => stalls.push(ms));
  w.arm();
  await sleep(150);
  assert.equal(stalls.length, 1);
  assert.ok(stalls[0]! >= 60, `silentMs ${stalls[0]}`);
});

test('activity keeps it quiet; silence after activity is measured from the last activity', async () => {
  const stalls: number[] = [];
  const w = new Watchdog(80, (ms) => stalls.push(ms));
  w.arm();
  for (let i = 0; i < 8; i++) {
    await sleep(25);
    w.touch();
  }
  assert.equal(stalls.length, 0);
  await sleep(150);
  assert.equal(stalls.length, 1);
  w.disarm();
});

test('the first deadline can be longer (start-up), later ones use the timeout', async () => {
  const stalls: number[] = [];
  const w = new Watchdog(50, (ms) => stalls.push(ms));
  w.arm(150);
  await sleep(90);
  assert.equal(stalls.length, 0, 'still within the start-up window');
  await sleep(120);
  assert.equal(stalls.length, 1);
});

test('null timeout never fires; disarm cancels', async () => {
  const stalls: number[] = [];
  const none = new Watchdog(null, (ms) => stalls.push(ms));
  none.arm();
  const w = new Watchdog(30, (ms) => stalls.push(ms));
  w.arm();
  w.disarm();
  await sleep(80);
  assert.deepEqual(stalls, []);
});

test('after the first activity the start-up window no longer delays detection', async () => {
  const stalls: number[] = [];
  const w = new Watchdog(50, (ms) => stalls.push(ms));
  w.arm(400);
  await sleep(10);
  w.touch();
  await sleep(120);
  assert.equal(stalls.length, 1, 'detected ~50 ms after the activity, not at the 400 ms start-up deadline');
});
