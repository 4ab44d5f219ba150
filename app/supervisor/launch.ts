/** Turns a ChildSpec into the exact argv to spawn: PATH lookup, -progress flags, the parent-death wrapper. */
import { platform } from 'node:os';
import { findExecutable, runProbe } from './probe.js';
import { maskText } from '../log/mask.js';
import type { ChildSpec } from './types.js';

/** Arguments the Supervisor adds in front of an ffmpeg child's own when `progress` is on. */
export const PROGRESS_ARGS = ['-progress', 'pipe:1', '-nostats'] as const;

/** The argv to hand to spawn, or why there is none. */
export type LaunchPlan =
  | { ok: true; command: string; args: string[]; env: NodeJS.ProcessEnv; resolved: string }
  | { ok: false; error: string };

/**
 * The path of a util-linux `setpriv` whose `--pdeathsig` works here, or undefined (not Linux, not installed, too
 * old, or refused by a sandbox). Checked once per Supervisor start by running setpriv under itself, which proves
 * more than `--help` listing the option would. With it, the kernel SIGKILLs a child the moment the core dies.
 */
export function detectPdeathsigWrapper(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (platform() !== 'linux') return undefined;
  const setpriv = findExecutable('setpriv', { PATH: `${env.PATH ?? ''}:/usr/bin:/bin` });
  if (!setpriv) return undefined;
  const run = runProbe(setpriv, ['--pdeathsig', 'SIGKILL', '--', setpriv, '--version'], { timeoutMs: 2000 });
  return run.ok ? setpriv : undefined;
}

/**
 * Builds the argv. The binary is resolved here rather than by execvp because behind `setpriv` a missing binary
 * would look like an ordinary exit 127; resolving first makes "spawn failed" the same with and without the wrapper.
 */
export function planLaunch(
  spec: ChildSpec,
  wrapper: string | undefined,
  baseEnv: NodeJS.ProcessEnv = process.env,
): LaunchPlan {
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...spec.env };
  const resolved = findExecutable(spec.command, env, spec.cwd);
  if (!resolved) {
    const where = spec.command.includes('/') ? 'is not an executable file' : 'was not found on PATH';
    return { ok: false, error: `ENOENT: ${spec.command} ${where}` };
  }
  const own = spec.kind === 'ffmpeg' && spec.progress ? [...PROGRESS_ARGS, ...spec.args] : [...spec.args];
  if (!wrapper) return { ok: true, command: resolved, args: own, env, resolved };
  // PDEATHSIG fires when the *thread* that forked the child exits; libuv forks on the main thread, which lives
  // as long as the core does. setpriv keeps the pid (it execs), so pid and process group stay the child's own.
  return { ok: true, command: wrapper, args: ['--pdeathsig', 'SIGKILL', '--', resolved, ...own], env, resolved };
}

/** The argv as safe to log: URL passwords, secret query values and rtmp stream keys masked (app/log/mask.ts). */
export function redactArgs(args: readonly string[]): string[] {
  return args.map(maskText);
}
