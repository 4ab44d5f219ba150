/** Child processes for benchmarks: started in their own process group, stopped for sure, with their last output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A started child and the tail of what it printed (for error messages). */
export interface Started {
  child: ChildProcess;
  tail: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `command` in its own process group, keeping its stdout (if asked) and the last 40 lines of its output. */
export function start(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; onStdout?: (chunk: string) => void } = {},
): Started {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 40));
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    keep(chunk);
    opts.onStdout?.(chunk.toString('utf8'));
  });
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  track(child);
  return { child, tail: () => lines.join('\n'), exited };
}

const live = new Set<ChildProcess>();

/** Registers a child to be killed (with its group) if the bench is interrupted. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

const interruptCleanups = new Set<() => void>();

/** Registers a synchronous cleanup (e.g. removing a temp dir) run on SIGINT/SIGTERM; returns its unregister. */
export function onInterrupt(fn: () => void): () => void {
  interruptCleanups.add(fn);
  return () => interruptCleanups.delete(fn);
}

/**
 * On SIGINT/SIGTERM, kills the process groups of every child still running (they are detached), runs the
 * onInterrupt cleanups, then exits.
 */
export function stopChildrenOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of live) {
        killGroup(child, 'SIGKILL');
        child.kill('SIGKILL');
      }
      for (const fn of interruptCleanups) {
        try {
          fn();
        } catch {
          // best effort: the process is exiting
        }
      }
      process.exit(130);
    });
  }
}

/** SIGTERM, then after `graceMs` SIGKILL to the whole group; resolves with how the child ended. */
export async function stop(
  started: Started,
  graceMs = 10_000,
): Promise<{ code: number | null; signal: string | null }> {
  const { child } = started;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  const result = await started.exited;
  clearTimeout(timer);
  killGroup(child, 'SIGKILL'); // anything it left in its group
  return result;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls `url` until it answers 200; fails early if `started` exits, or after `timeoutMs`. */
export async function waitForOk(url: string, started: Started, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the server exited before ${url} answered:\n${started.tail()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s:\n${started.tail()}`);
}
