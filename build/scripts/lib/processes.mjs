// Finding processes a test run left behind, from /proc (Linux). The filter is pure so that it can be unit-tested.
import { readFileSync, readdirSync } from 'node:fs';

/** The environment variable that marks every process a test run starts (children inherit it). */
export const RUN_ID_VAR = 'CUPOLA_TEST_RUN_ID';

/** Programs that tests start and that must never outlive them, even when they dropped our environment. */
export const WATCHED_NAMES = ['ffmpeg', 'ffprobe', 'gst-launch-1.0', 'chromium', 'chrome', 'chrome_crashpad'];

function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** One process from /proc, or null if it is gone. */
export function readProcess(pid) {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // comm is in parentheses and may hold spaces or parentheses itself: split after the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  const cmdline = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
  const environ = readText(`/proc/${pid}/environ`) ?? '';
  const runId = /(?:^|\0)CUPOLA_TEST_RUN_ID=([^\0]*)/.exec(environ)?.[1] ?? null;
  return {
    pid,
    ppid: Number(fields[1]),
    state: fields[0],
    startTicks: Number(fields[19]),
    comm,
    cmdline: cmdline || `[${comm}]`,
    runId,
  };
}

/** Every process on the machine (empty where /proc does not exist). */
export function listProcesses() {
  let names;
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  return names
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((proc) => proc !== null && proc.state !== 'Z');
}

/**
 * The processes a run left behind: those carrying its run id or descending from it, and (with `strict`, as in CI
 * where nothing else runs) watched programs without any run id started after the run began. Another run's marked
 * processes are never counted.
 */
export function findLeftovers(processes, { runId, selfPid, selfStartTicks, strict }) {
  const byPid = new Map(processes.map((proc) => [proc.pid, proc]));
  const descendsFromSelf = (proc) => {
    for (let p = byPid.get(proc.ppid), hops = 0; p && hops < 64; p = byPid.get(p.ppid), hops++) {
      if (p.pid === selfPid) return true;
    }
    return false;
  };
  return processes.filter((proc) => {
    if (proc.pid === selfPid) return false;
    if (proc.runId === runId) return true;
    if (descendsFromSelf(proc)) return true;
    if (proc.runId !== null || !strict) return false;
    return WATCHED_NAMES.includes(proc.comm) && proc.startTicks >= selfStartTicks;
  });
}
