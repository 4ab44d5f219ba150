/**
 * `cupola demo`: the full topology on this host (one slave per site, a compressor, a master, synthetic cameras),
 * printing the dashboard URL and the admin login; Ctrl-C stops everything. The orchestration is in app/demo/.
 */
import { rmSync } from 'node:fs';
import { Demo, type DemoOptions } from './demo/demo.js';
import { banner, cpuLine } from './demo/report.js';

/** Seconds over which the demo measures and prints its own CPU use once its streams are up. */
const CPU_WINDOW_S = 30;

/** Options of `cupola demo`. */
export type RunDemoOptions = Pick<DemoOptions, 'cameras' | 'sites' | 'port'>;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Runs the demo until SIGINT/SIGTERM; a second signal exits at once (the children die with us: PDEATHSIG). */
export async function runDemo(opts: RunDemoOptions): Promise<number> {
  const demo = new Demo({ ...opts, say: (line) => say(`  demo: ${line}`) });
  const quit = new AbortController();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      say(`  demo: second ${signal}: exiting now`);
      const root = demo.dataRoot;
      if (root) rmSync(root, { recursive: true, force: true });
      process.exit(130);
    }
    signalled = true;
    say(`\n  demo: ${signal}: stopping every node and camera...`);
    quit.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stopped = new Promise<void>((resolve) => quit.signal.addEventListener('abort', () => resolve()));
  const t0 = performance.now();
  let code = 0;
  try {
    const info = await Promise.race([demo.start(), stopped.then(() => null)]);
    if (info) {
      say(banner(info, performance.now() - t0));
      void followUp(demo, quit.signal);
      await stopped;
    }
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    code = /already in use/.test((err as Error).message) ? 3 : 1;
  }
  const t1 = performance.now();
  await demo.stop();
  say(`  demo: stopped in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}

/** Once running: says when every stream is up, then measures the demo's CPU over 30 s and prints it (Linux). */
async function followUp(demo: Demo, signal: AbortSignal): Promise<void> {
  try {
    const ms = await demo.waitStreams(90_000, signal);
    if (signal.aborted) return;
    say(
      `  demo: every camera is online as F1 and F2 (transcoded) and relayed by the master ${(ms / 1000).toFixed(1)} s later`,
    );
    if (process.platform !== 'linux') return; // the figures come from /proc
    const per = await demo.measureCpu(CPU_WINDOW_S, signal);
    if (!signal.aborted) say(cpuLine(per, CPU_WINDOW_S));
  } catch (err) {
    if (!signal.aborted) say(`  demo: ${(err as Error).message}`);
  }
}
