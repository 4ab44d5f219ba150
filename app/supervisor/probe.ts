/**
 * Short probes (`ffmpeg -version`, `setpriv --help`, hardware trial encodes). They live here so that
 * node:child_process is imported only under app/supervisor: "nothing else spawns" stays checkable with one grep or
 * lint rule.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { detectPdeathsigWrapper } from './launch.js';

/** What a probe printed, or why it did not run. */
export type ProbeResult = { ok: true; stdout: string } | { ok: false; error: string };

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'ENOENT: no such file',
  EACCES: 'EACCES: not executable (check the file mode)',
  ENOEXEC: 'ENOEXEC: not a binary for this machine',
};

/** Options of a probe run. */
export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  /** The probe is killed after this long (default 5000 ms); it blocks the event loop meanwhile. */
  timeoutMs?: number;
}

/**
 * Runs `command args` to completion and returns its stdout. Only for start-up probes of a few milliseconds:
 * it blocks the event loop, and the process is not supervised (it exits on its own or is killed on timeout).
 */
export function runProbe(command: string, args: readonly string[], opts: ProbeOptions = {}): ProbeResult {
  try {
    const stdout = execFileSync(command, args, {
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? 5000,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 4 * 1024 * 1024,
    });
    return { ok: true, stdout };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; signal?: string | null; stderr?: string };
    if (e.code === 'ETIMEDOUT') return { ok: false, error: `timed out after ${opts.timeoutMs ?? 5000} ms` };
    if (typeof e.code === 'string') return { ok: false, error: ERRNO_TEXT[e.code] ?? e.code };
    const why = e.signal ? `killed by ${e.signal}` : `exited with code ${e.status ?? '?'}`;
    const firstLine = (e.stderr ?? '').trim().split('\n')[0];
    return { ok: false, error: firstLine ? `${why}: ${firstLine}` : why };
  }
}

/**
 * Runs `command args` to completion without blocking the event loop; for one-shot checks of a few seconds (the
 * hardware-encoder trial encodes) that end on their own. Not supervised: killed with SIGKILL on timeout, never
 * restarted. Resolves with stdout, or why it failed (the first line of stderr when it ran and failed). Like a
 * supervised child it runs under `setpriv --pdeathsig SIGKILL` where that works, so a trial hung in a device driver
 * cannot outlive a core killed with -9.
 */
export function runOneShot(command: string, args: readonly string[], opts: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  oneShotWrapper ??= detectPdeathsigWrapper() ?? null;
  // Resolved first: behind setpriv a missing binary would look like an ordinary exit 127.
  const resolved = findExecutable(command, opts.env ?? process.env);
  if (!resolved) return Promise.resolve({ ok: false, error: ERRNO_TEXT.ENOENT! });
  const argv = oneShotWrapper
    ? [oneShotWrapper, '--pdeathsig', 'SIGKILL', '--', resolved, ...args]
    : [resolved, ...args];
  return new Promise((resolve) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { env: opts.env ?? process.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ ok: true, stdout });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown };
        if (typeof e.code === 'string') return resolve({ ok: false, error: ERRNO_TEXT[e.code] ?? e.code });
        if (e.killed && e.signal === 'SIGKILL') return resolve({ ok: false, error: `timed out after ${timeoutMs} ms` });
        const why = e.signal ? `killed by ${e.signal}` : `exited with code ${String(e.code ?? '?')}`;
        const firstLine = stderr.trim().split('\n')[0];
        resolve({ ok: false, error: firstLine ? `${why}: ${firstLine}` : why });
      },
    );
  });
}

/** The parent-death wrapper of one-shot children, detected on first use (null: none here). */
let oneShotWrapper: string | null | undefined;

/** True when `path` is a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves `command` like execvp would: a path containing `/` is taken as is, a bare name is searched in
 * `PATH` of `env`. Returns the absolute path, or undefined when nothing executable is found.
 */
export function findExecutable(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string | undefined {
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : join(cwd, command);
    return isExecutableFile(path) ? path : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue; // an empty PATH entry means cwd to execvp; an appliance should not run binaries from its cwd
    const path = join(isAbsolute(dir) ? dir : join(cwd, dir), command);
    if (isExecutableFile(path)) return path;
  }
  return undefined;
}
