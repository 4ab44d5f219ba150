import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readRegistry } from '../../../app/supervisor/registry.js';
import {
  isRunning,
  killAll,
  processesWithMarker,
  readProcess,
  uniqueMarker,
  waitUntil,
} from '../../helpers/processes.js';

const HOST = fileURLToPath(new URL('./fixtures/host.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

test('kill -9 of the core: its ffmpeg children are gone well within 5 s (PDEATHSIG), no reaper needed', async (t) => {
  const runDir = mkdtempSync(join(tmpdir(), 'cupola-host-'));
  const marker = uniqueMarker();
  // node directly, not npx: npx would be the parent we kill and the host would survive it.
  const host = spawn(process.execPath, ['--import', 'tsx', HOST, runDir, marker], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let pids: number[] = [];
  t.after(() => {
    killAll([...pids, ...(host.pid ? [host.pid] : [])]);
    rmSync(runDir, { recursive: true, force: true });
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('host did not report its children within 10 s')), 10_000);
    createInterface({ input: host.stdout! }).once('line', (l) => (clearTimeout(timer), resolve(l)));
    host.once('exit', (code) => reject(new Error(`host exited early with ${code}`)));
  });
  const report = JSON.parse(line) as { pids: number[]; orphanGuard: string };
  pids = report.pids;
  assert.equal(report.orphanGuard, 'pdeathsig', 'setpriv --pdeathsig is available on this machine');
  assert.equal(pids.length, 2);
  for (const pid of pids) {
    assert.ok(isRunning(pid), `child ${pid} runs`);
    assert.equal(readProcess(pid)?.ppid, host.pid, 'the host is the direct parent (setpriv exec()s, no extra process)');
    assert.equal(readProcess(pid)?.pgid, pid, 'each child leads its own process group');
  }
  assert.equal(
    processesWithMarker(marker).filter((p) => p.pid !== host.pid).length,
    2,
    'the host also carries the marker',
  );
  assert.deepEqual(
    readRegistry(runDir)
      ?.children.map((c) => c.pgid)
      .sort(),
    [...pids].sort(),
    'both are in the run file',
  );

  const exited = new Promise((resolve) => host.once('exit', resolve));
  const t0 = performance.now();
  host.kill('SIGKILL');
  await exited;
  const goneMs = await waitUntil(
    () => pids.every((pid) => !isRunning(pid)),
    5000,
    'the children of the killed host to die',
    5,
  );
  const totalMs = performance.now() - t0;
  assert.deepEqual(processesWithMarker(marker), []);
  t.diagnostic(
    `children gone ${Math.round(totalMs)} ms after SIGKILL of the host (${Math.round(goneMs)} ms after its exit was seen)`,
  );
  assert.ok(totalMs < 5000);
});
