/** Types of processes.mjs, for the tooling tests. */

/** A process as read from /proc. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  state: string;
  startTicks: number;
  comm: string;
  cmdline: string;
  runId: string | null;
}

/** The environment variable that marks every process a test run starts. */
export const RUN_ID_VAR: string;
/** Programs that must never outlive the tests. */
export const WATCHED_NAMES: string[];
/** One process from /proc, or null if it is gone. */
export function readProcess(pid: number): ProcessInfo | null;
/** Every live process on the machine. */
export function listProcesses(): ProcessInfo[];
/** The processes a test run left behind. */
export function findLeftovers(
  processes: ProcessInfo[],
  options: { runId: string; selfPid: number; selfStartTicks: number; strict: boolean },
): ProcessInfo[];
