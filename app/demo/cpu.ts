/**
 * CPU of the demo's process trees from /proc: each supervised child (a node, a camera) with everything below it
 * (media-plane workers, transcoding jobs, preview muxers), as cores used over a window.
 */
import { readdirSync } from 'node:fs';
import { readProcStat } from '../supervisor/proc.js';

/** USER_HZ, the unit of /proc times (fixed at 100 for userspace on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU ticks of every live process below each root (root included), keyed `pid:startTime` so a reused pid is new. */
export function treeTicks(roots: ReadonlyMap<string, number>): Map<string, Map<string, number>> {
  const byParent = new Map<number, number[]>();
  const ticks = new Map<number, { key: string; ticks: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    // no /proc: nothing to measure
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (!stat) continue;
    ticks.set(stat.pid, { key: `${stat.pid}:${stat.startTime}`, ticks: stat.cpuTicks });
    const list = byParent.get(stat.ppid);
    if (list) list.push(stat.pid);
    else byParent.set(stat.ppid, [stat.pid]);
  }
  const out = new Map<string, Map<string, number>>();
  for (const [name, root] of roots) {
    const tree = new Map<string, number>();
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift()!;
      const t = ticks.get(pid);
      if (!t) continue;
      tree.set(t.key, t.ticks);
      queue.push(...(byParent.get(pid) ?? []));
    }
    out.set(name, tree);
  }
  return out;
}

/** Cores used per root between two treeTicks() snapshots `seconds` apart (processes born meanwhile count whole). */
export function coresBetween(
  before: Map<string, Map<string, number>>,
  after: Map<string, Map<string, number>>,
  seconds: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, tree] of after) {
    const old = before.get(name) ?? new Map<string, number>();
    let used = 0;
    for (const [key, ticks] of tree) used += Math.max(0, ticks - (old.get(key) ?? 0));
    out.set(name, used / TICKS_PER_SECOND / seconds);
  }
  return out;
}

/** Measures the trees of `roots()` (name → pid, read at both ends) over `seconds`. */
export async function measureCores(
  roots: () => ReadonlyMap<string, number>,
  seconds: number,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const start = performance.now();
  const before = treeTicks(roots());
  await new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, seconds * 1000);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
  const elapsed = (performance.now() - start) / 1000;
  return coresBetween(before, treeTicks(roots()), elapsed);
}
