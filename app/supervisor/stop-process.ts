/** The three-step stop of one child process: ask nicely, then SIGTERM, then SIGKILL, each to the whole group. */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log/logger.js';
import { groupMembers, signalGroup } from './proc.js';
import type { ChildSpec } from './types.js';

/** How to stop a child. */
export interface StopHow {
  kind: ChildSpec['kind'];
  ipc: boolean;
  /** Wait after each step before the next one. */
  waitMs: number;
  log: Logger;
}

/**
 * Stops `cp` (leader of process group `pid`); `exited` resolves when its exit has been handled.
 * Resolves once the leader has exited and no other member of its group is left.
 */
export async function stopProcess(cp: ChildProcess, pid: number, exited: Promise<void>, how: StopHow): Promise<void> {
  const gone = async () => {
    await exited;
    await waitForGroup(pid);
  };
  if (askToQuit(cp, how) && (await settlesWithin(exited, how.waitMs))) return gone();
  how.log.debug({ childPid: pid }, 'sending SIGTERM to the process group');
  signalGroup(pid, 'SIGTERM');
  signalGroup(pid, 'SIGCONT'); // a frozen (SIGSTOP) child only acts on SIGTERM once continued
  if (await settlesWithin(exited, how.waitMs)) return gone();
  how.log.debug({ childPid: pid }, 'sending SIGKILL to the process group');
  signalGroup(pid, 'SIGKILL');
  return gone();
}

/** The graceful first step; false when the child has none and SIGTERM comes first. */
function askToQuit(cp: ChildProcess, how: StopHow): boolean {
  if (how.kind === 'ffmpeg' && cp.stdin?.writable) {
    cp.stdin.write('q'); // ffmpeg finishes its outputs properly (MP4 moov atom, HLS endlist) on 'q'
    return true;
  }
  if (how.ipc && cp.connected) {
    cp.disconnect(); // workers exit on 'disconnect' (see superviseWorker)
    return true;
  }
  return false;
}

/** Resolves true if `p` settles within `ms`, false otherwise; never leaves a timer behind. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (≤ 1 s) until SIGKILLed stragglers of group `pgid` have left /proc, so stop() means "all gone". */
async function waitForGroup(pgid: number): Promise<void> {
  const until = performance.now() + 1000;
  // A member whose pid equals pgid would be a recycled pid leading an unrelated group: not ours to wait for.
  while (groupMembers(pgid).some((m) => m.pid !== pgid) && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
