/** Real peer processes for tests (ffmpeg, ffprobe, gst-launch-1.0, fixtures): output kept, killed in t.after. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Scope } from './core.js';
import { killAll } from './processes.js';

/** A finished child. */
export interface PeerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout lines with the ms since spawn at which they arrived (for -progress rates). */
  lines: { at: number; line: string }[];
}

/** A running child. */
export interface Peer {
  pid: number;
  done: Promise<PeerResult>;
  running(): boolean;
}

/** Spawns a peer in its own process group; t.after SIGKILLs the group if it is still there. */
export function spawnPeer(scope: Scope, command: string, args: string[]): Peer {
  return trackPeer(scope, spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
}

/** Collects the output of an already spawned child and kills it (and its group) in t.after. */
export function trackPeer(scope: Scope, child: ChildProcess): Peer {
  const pid = child.pid!;
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  let partial = '';
  const lines: PeerResult['lines'] = [];
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s.slice(0, 100_000);
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push({ at: performance.now() - started, line });
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s.slice(0, 100_000)));
  let exited = false;
  const done = new Promise<PeerResult>((resolve) => {
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout, stderr, lines });
    });
  });
  scope.after(async () => {
    if (exited) return;
    killAll([pid]);
    await done;
  });
  return { pid, done, running: () => !exited };
}
