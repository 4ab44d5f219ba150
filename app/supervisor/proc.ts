/** Linux /proc and process-group signalling, used to kill exactly our processes and never a recycled pid. */
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the supervisor needs. */
export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** Start time in clock ticks since boot: with the pid, it identifies a process uniquely. */
  startTime: string;
  /** CPU time used (user + system), in clock ticks (USER_HZ). */
  cpuTicks: number;
}

/** Parses a /proc/<pid>/stat line; undefined when malformed. */
export function parseProcStat(text: string): ProcStat | undefined {
  // comm (field 2) may contain spaces and parentheses, so fields are counted from the last ')'.
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field N is f[N - 3].
  const [state, ppid, pgid, sid, startTime] = [f[0], f[1], f[2], f[3], f[19]];
  if (!state || !ppid || !pgid || !sid || !startTime) return undefined;
  const cpuTicks = Number(f[11]) + Number(f[12]);
  return { pid, state, ppid: Number(ppid), pgid: Number(pgid), sid: Number(sid), startTime, cpuTicks };
}

/** The stat of one live (non-zombie) process, or undefined when it is gone or /proc is unavailable. */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat && stat.state !== 'Z' && stat.state !== 'X' ? stat : undefined;
  } catch {
    return undefined;
  }
}

/** The start time of `pid`, or undefined when it is not running. */
export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

/** Live processes whose process group is `pgid`. */
export function groupMembers(pgid: number): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.pgid === pgid) members.push(stat);
  }
  return members;
}

/** Sends `signal` to a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false; // -0 / -1 would hit our own group or every process
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGKILLs the group `pgid` if it is still ours: either its leader is alive with the recorded start time,
 * or the leader is gone and only its descendants remain. The kernel never hands out a pid still used as a
 * process-group id, so a group without a leader cannot belong to anyone else; a leader with another start
 * time is a recycled pid and is left alone. Returns the number of processes signalled.
 */
export function killGroupIfOurs(pgid: number, leaderStartTime: string | undefined): number {
  const members = groupMembers(pgid);
  const leader = members.find((m) => m.pid === pgid);
  if (leader && leader.startTime !== leaderStartTime) return 0;
  if (members.length === 0) return 0;
  return signalGroup(pgid, 'SIGKILL') ? members.length : 0;
}
