/** NodeHealthSampler on this machine's /proc, with made-up role sources. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countJobs, countStreams, NodeHealthSampler, readRssBytes } from '../../../app/cluster/node-health.js';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

test('figures of the machine, this process and its children; CPU once two samples exist; no timer after stop', async () => {
  // This test process stands in for a supervised child: its CPU and RSS are then known to be non-zero.
  const sampler = new NodeHealthSampler(
    {
      children: () => [{ pid: process.pid }, { pid: null }],
      streams: () => [
        { plane: 'f1', stats: { publisher: { remote: 'x' } } },
        { plane: 'f1', stats: { publisher: null } },
        { plane: 'f2', stats: { publisher: { remote: 'y' } } },
        { plane: 'f1', stats: { publisher: { remote: 'z' } }, relay: { state: 'playing' } },
      ],
      jobs: () => [{ state: 'running' }, { state: 'degraded' }, { state: 'waiting-for-capacity' }, { state: 'failed' }],
      relays: () => 3,
    },
    { sampleMs: 40, samples: 4 },
  );
  const before = sampler.snapshot();
  assert.equal(before.machine.cpuPercent, null, 'no sample before start');
  sampler.start();
  const spinUntil = performance.now() + 200;
  while (performance.now() < spinUntil) await sleep(0); // busy-ish, so the process uses CPU
  await sleep(60);
  const h = sampler.snapshot();
  sampler.stop();
  assert.ok(h.windowS > 0 && h.windowS <= 0.2, `window ${h.windowS} s`);
  assert.ok(h.machine.cpuPercent !== null && h.machine.cpuPercent >= 0 && h.machine.cpuPercent <= 100);
  assert.ok(h.machine.cores >= 1);
  assert.equal(h.machine.loadAvg.length, 3);
  assert.ok(h.machine.memUsedBytes > 0 && h.machine.memUsedBytes < h.machine.memTotalBytes);
  assert.ok(h.process.cpuPercent !== null && h.process.cpuPercent > 0, `process ${h.process.cpuPercent} %`);
  assert.ok(h.process.rssBytes > 10 * 1024 * 1024);
  assert.equal(h.children.count, 1);
  assert.ok(h.children.cpuPercent !== null && h.children.cpuPercent >= 0);
  assert.ok(Math.abs(h.children.rssBytes - h.process.rssBytes) < h.process.rssBytes / 2, 'the child is this process');
  assert.deepEqual(h.streams, { f1: 1, f2: 1 }, 'with a publisher, the relay left out');
  assert.deepEqual(h.jobs, { total: 4, running: 2, waiting: 1 });
  assert.equal(h.relays, 3);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, 0, 'no timer left');
  assert.equal(sampler.snapshot().process.cpuPercent, null, 'samples forgotten after stop');
});

test('role counts are null on a node without the role', () => {
  const h = new NodeHealthSampler({ children: () => [] }).snapshot();
  assert.equal(h.streams, null);
  assert.equal(h.jobs, null);
  assert.equal(h.relays, null);
  assert.deepEqual(h.children, { count: 0, cpuPercent: null, rssBytes: 0 });
});

test('helpers: counts and RSS of a process that is gone', () => {
  assert.deepEqual(countStreams([]), { f1: 0, f2: 0 });
  assert.deepEqual(countJobs([{ state: 'starting' }, { state: 'parked' }]), { total: 2, running: 0, waiting: 0 });
  assert.equal(readRssBytes(2 ** 22 + 12345), null);
});
