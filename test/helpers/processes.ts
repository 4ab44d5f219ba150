/**
 * Test helper: list processes from /proc and find leftovers (orphans) of a test. Self-contained on purpose: it
 * checks the Supervisor's /proc handling from the outside instead of reusing it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** One process as seen in /proc. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** One-letter state; Z (zombie) and X (dead) are not running. */
  state: string;
  /** Clock ticks since boot; with the pid it identifies a process uniquely. */
  startTime: string;
  argv: string[];
}

/** Reads one process; undefined when it does not exist (or vanished while being read). */
export function readProcess(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      // zombies have no cmdline
    }
    return {
      pid,
      state: rest[0] ?? '?',
      ppid: Number(rest[1]),
      pgid: Number(rest[2]),
      startTime: rest[19] ?? '',
      argv,
    };
  } catch {
    return undefined;
  }
}

/** Every process currently in /proc (zombies included; see isRunning). */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(Number(entry));
    if (info) out.push(info);
  }
  return out;
}

/** True when the process exists and is not a zombie (a zombie has exited; it only waits to be reaped). */
export function isRunning(pid: number): boolean {
  const info = readProcess(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X';
}

/** Running processes whose argv contains `marker` as a whole argument or inside one (e.g. `comment=<marker>`). */
export function processesWithMarker(marker: string): ProcInfo[] {
  return listProcesses().filter((p) => p.state !== 'Z' && p.argv.some((a) => a.includes(marker)));
}

/** Running descendants of `pid` (by parent chain), not including `pid` itself. */
export function descendantsOf(pid: number): ProcInfo[] {
  const all = listProcesses().filter((p) => p.state !== 'Z');
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/**
 * Running descendants of `pid` that live in another process group than `pid` itself: what a Supervisor spawned
 * (each child leads its own group) and what those children forked. Tooling that shares the test's group, such as
 * the esbuild service tsx starts, is left out.
 */
export function detachedDescendantsOf(pid: number): ProcInfo[] {
  const own = readProcess(pid)?.pgid;
  return descendantsOf(pid).filter((p) => p.pgid !== own);
}

/** Running members of the given process groups. */
export function membersOfGroups(pgids: Iterable<number>): ProcInfo[] {
  const set = new Set(pgids);
  return listProcesses().filter((p) => p.state !== 'Z' && set.has(p.pgid));
}

/** Polls `check` every `intervalMs` until it returns true; returns the elapsed ms, or throws after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** SIGKILLs the given pids (and their groups when they lead one); for t.after cleanups, never throws. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    const leads = readProcess(pid)?.pgid === pid;
    for (const target of leads ? [-pid, pid] : [pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone, or not a group leader
      }
    }
  }
}

/** A marker unique to this test run, to put in child args so orphan checks find exactly our processes. */
export function uniqueMarker(prefix = 'cupola-test'): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}
