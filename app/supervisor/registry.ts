/**
 * The run file (`<runDir>/children.json`): every live child's process group and start time, so that the next
 * start can kill what a crashed core left behind. Written synchronously (a few hundred bytes, only when a child
 * starts or exits) so the file on disk is never behind the processes, even if the core dies right after a spawn.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killGroupIfOurs, processStartTime } from './proc.js';

/** The name of the run file inside runDir. */
export const REGISTRY_FILE = 'children.json';

/** One recorded child: its process group (= its pid, it leads its group) and the leader's start time. */
export interface RegistryEntry {
  name: string;
  pgid: number;
  startTime: string;
}

/** The run file's content. */
export interface RegistryFile {
  version: 1;
  /** The core that wrote it; a live owner other than us means two cores share a runDir. */
  owner: { pid: number; startTime: string };
  children: RegistryEntry[];
}

/** What start() found and did. */
export interface ReapReport {
  found: number;
  killed: RegistryEntry[];
}

/** Thrown by start() when another live core owns the run directory. */
export class RunDirInUseError extends Error {
  constructor(runDir: string, pid: number) {
    super(`run directory ${runDir} is in use by another Cupola process (pid ${pid}); give each core its own dataDir`);
    this.name = 'RunDirInUseError';
  }
}

/** The path of the run file in `runDir`. */
export function registryPath(runDir: string): string {
  return join(runDir, REGISTRY_FILE);
}

/** Reads and owns the run file of one Supervisor. */
export class ChildRegistry {
  private readonly entries = new Map<string, RegistryEntry>();
  private self = { pid: process.pid, startTime: '0' };

  constructor(
    private readonly runDir: string,
    private readonly onWriteError?: (err: Error) => void,
  ) {}

  /** Kills leftovers of a previous run recorded in the file, then takes the file over. */
  reap(): ReapReport {
    mkdirSync(this.runDir, { recursive: true });
    this.self = { pid: process.pid, startTime: processStartTime(process.pid) ?? '0' };
    const previous = readRegistry(this.runDir);
    const report: ReapReport = { found: previous?.children.length ?? 0, killed: [] };
    if (previous) {
      const { pid, startTime } = previous.owner;
      if (pid !== process.pid && processStartTime(pid) === startTime) throw new RunDirInUseError(this.runDir, pid);
      for (const entry of previous.children) {
        if (killGroupIfOurs(entry.pgid, entry.startTime) > 0) report.killed.push(entry);
      }
    }
    this.entries.clear();
    this.write();
    return report;
  }

  /** Records a child that just started. */
  add(entry: RegistryEntry): void {
    this.entries.set(entry.name, entry);
    this.write();
  }

  /** Forgets a child whose process group is gone. */
  delete(name: string): void {
    if (this.entries.delete(name)) this.write();
  }

  /** Removes the file once every child is gone (clean stop). */
  close(): void {
    this.entries.clear();
    rmSync(registryPath(this.runDir), { force: true });
  }

  private write(): void {
    const file: RegistryFile = { version: 1, owner: this.self, children: [...this.entries.values()] };
    const path = registryPath(this.runDir);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(file)}\n`);
      renameSync(tmp, path); // atomic: a crash mid-write never leaves a truncated file for the reaper
    } catch (err) {
      // A vanished or full run dir costs the reaper its list, never the core: pdeathsig still guards the children.
      this.onWriteError?.(err as Error);
    }
  }
}

/** Reads a run file; undefined when absent or unreadable (a corrupt file must not stop the core from starting). */
export function readRegistry(runDir: string): RegistryFile | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(registryPath(runDir), 'utf8'));
  } catch {
    return undefined;
  }
  const f = raw as Partial<RegistryFile> | null;
  if (!f || f.version !== 1 || !Array.isArray(f.children) || typeof f.owner?.pid !== 'number') return undefined;
  const children = f.children.filter(
    (c): c is RegistryEntry =>
      typeof c?.name === 'string' && Number.isInteger(c.pgid) && c.pgid > 1 && typeof c.startTime === 'string',
  );
  return { version: 1, owner: { pid: f.owner.pid, startTime: String(f.owner.startTime) }, children };
}
