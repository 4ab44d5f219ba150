import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EventBus } from '../../../app/events/bus.js';
import { silentLogger } from '../../../app/log/logger.js';
import { registryPath, readRegistry, RunDirInUseError, type RegistryFile } from '../../../app/supervisor/registry.js';
import { Supervisor } from '../../../app/supervisor/supervisor.js';
import { isRunning, killAll, membersOfGroups, readProcess, waitUntil } from '../../helpers/processes.js';
import { FAST } from './harness.js';

/** A process in its own group, as a crashed core would have left it (the test spawns it: it is not the code under test). */
function leftover(t: TestContext, script = 'exec sleep 30'): ChildProcess {
  const cp = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  t.after(() => killAll(cp.pid ? [cp.pid] : []));
  return cp;
}

function runDirWith(
  t: TestContext,
  children: RegistryFile['children'],
  owner = { pid: 1, startTime: 'not-init' },
): string {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-reap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file: RegistryFile = { version: 1, owner, children };
  writeFileSync(registryPath(dir), JSON.stringify(file));
  return dir;
}

async function startSupervisor(t: TestContext, runDir: string): Promise<Supervisor> {
  const sup = new Supervisor({ log: silentLogger(), bus: new EventBus(), options: FAST, runDir });
  t.after(() => sup.stop());
  await sup.start();
  return sup;
}

test('start() kills a child recorded by a crashed run when its start time still matches', async (t) => {
  const cp = leftover(t);
  const pid = cp.pid!;
  const exit = new Promise<NodeJS.Signals | null>((resolve) => cp.once('exit', (_code, signal) => resolve(signal)));
  await waitUntil(() => readProcess(pid)?.argv[0] === 'sleep', 2000, 'sleep to exec');
  const runDir = runDirWith(t, [{ name: 'old', pgid: pid, startTime: readProcess(pid)!.startTime }]);
  await startSupervisor(t, runDir);
  assert.equal(await exit, 'SIGKILL');
  assert.deepEqual(readRegistry(runDir)?.children, [], 'the run file now belongs to the new run');
});

test('start() leaves alone a pid whose start time differs (a recycled pid)', async (t) => {
  const cp = leftover(t);
  const pid = cp.pid!;
  const real = readProcess(pid)!.startTime;
  const runDir = runDirWith(t, [{ name: 'recycled', pgid: pid, startTime: String(Number(real) - 1) }]);
  await startSupervisor(t, runDir);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(isRunning(pid), 'a process that is not the recorded one survives');
});

test('start() kills what is left of a group whose leader already died', async (t) => {
  // The leader forks a sleep into its group and exits; the sleep keeps the group (and so the pgid) alive.
  const cp = leftover(t, 'sleep 30 & exit 0');
  const pgid = cp.pid!;
  const startTime = readProcess(pgid)!.startTime;
  await new Promise((resolve) => cp.once('exit', resolve));
  await waitUntil(() => membersOfGroups([pgid]).length === 1, 2000, 'the orphaned sleep');
  const orphan = membersOfGroups([pgid])[0]!;
  t.after(() => killAll([orphan.pid]));
  const runDir = runDirWith(t, [{ name: 'half-dead', pgid, startTime }]);
  await startSupervisor(t, runDir);
  await waitUntil(() => !isRunning(orphan.pid), 2000, 'the orphan to be killed');
});

test('start() refuses a run directory owned by another live core', async (t) => {
  const cp = leftover(t);
  const other = readProcess(cp.pid!)!;
  const runDir = runDirWith(t, [], { pid: other.pid, startTime: other.startTime });
  const sup = new Supervisor({ log: silentLogger(), bus: new EventBus(), options: FAST, runDir });
  await assert.rejects(sup.start(), RunDirInUseError);
});
