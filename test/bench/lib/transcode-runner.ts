/**
 * Starts one side of the compressor bench (lib/transcode-runner-child.ts: `pool` or `bare`) in its own Node process
 * and talks to it over stdin/stdout. The child runs as compiled JavaScript like `cupola serve` does: its source is
 * transpiled once (TypeScript's transpileModule) to a temp .mjs whose imports of app/ point at dist/app/ (built by
 * `npm run bench`'s bootstrap), because under tsx an idle Node process costs several times what the pool does.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { onInterrupt, track } from './proc.js';
import type { RunnerSample } from './transcode-runner-child.js';

export type { JobSample, RunnerSample } from './transcode-runner-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const DIST_APP = join(ROOT, 'dist', 'app');

/** A runner child as seen from the bench. */
export interface Runner {
  mode: 'pool' | 'bare';
  pid: number;
  /** Jobs 0 … n-1 run from now on (the pool admits them one by one). */
  want(n: number): Promise<void>;
  sample(): Promise<RunnerSample>;
  /** Every ffmpeg pid seen in a sample, so that the bench can check none outlives the runner. */
  seenPids: Set<number>;
  /** Stops every job and the process; resolves once it exited. */
  stop(): Promise<void>;
}

let compiled: string | null = null;

/** The child as a temp .mjs importing dist/app/ (made once per bench run, removed when the bench exits). */
function compileChild(): string {
  if (compiled) return compiled;
  if (!existsSync(join(DIST_APP, 'cli.js')))
    throw new Error(`${DIST_APP} is not built: run the bench with npm run bench`);
  const source = join(HERE, 'transcode-runner-child.ts');
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
  });
  const js = outputText.replaceAll(`from '../../../app/`, `from '${pathToFileURL(DIST_APP).href}/`);
  const relative = /from '\.\.?\//.exec(js);
  if (relative) throw new Error(`transcode-runner-child.ts may import only node builtins and app/: ${relative[0]}`);
  const dir = mkdtempSync(join(tmpdir(), 'cupola-bench-runner-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  onInterrupt(remove);
  process.once('exit', remove);
  compiled = join(dir, 'transcode-runner-child.mjs');
  writeFileSync(compiled, js);
  return compiled;
}

/** Starts a runner child with the jobs' argv; resolves once it is ready. */
export function startRunner(mode: 'pool' | 'bare', ffmpeg: string, jobs: string[][]): Promise<Runner> {
  // BENCH_RUNNER_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, to see where the pool's time goes.
  const nodeArgs = (process.env.BENCH_RUNNER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, compileChild(), mode], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    // Its own process group: the bench's interrupt handler kills it, and with it the bare side's ffmpeg.
    detached: true,
  });
  track(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.resolve(line));
  void exited.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the ${mode} runner exited`));
  });
  const request = (message: unknown, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${mode} runner did not answer`)), timeoutMs);
      waiting.push({
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      child.stdin!.write(`${JSON.stringify(message)}\n`);
    });
  const seenPids = new Set<number>();
  const runner: Runner = {
    mode,
    pid: child.pid!,
    seenPids,
    async want(n) {
      await request({ want: n });
    },
    async sample() {
      const sample = JSON.parse(await request({ sample: true })) as RunnerSample;
      for (const j of sample.jobs) if (j.pid) seenPids.add(j.pid);
      return sample;
    },
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return request({ ffmpeg, jobs }, 60_000).then(() => runner);
}
