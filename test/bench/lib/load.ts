/**
 * Load generator, run as its own process so it never shares a core's event loop with the server it measures:
 *   node --import tsx test/bench/lib/load.ts '{"url":"...","headers":{},"connections":10,"durationS":10,"warmupS":2}'
 * Prints one JSON line: { reqPerSec, p99Ms, requests, non2xx, errors, timeouts }.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { track } from './proc.js';

/** What to load and for how long. */
export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
  warmupS?: number;
}

/** The measured figure of one load run. */
export interface LoadResult {
  reqPerSec: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

async function runHere(options: LoadOptions): Promise<LoadResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const base = { url: options.url, headers: options.headers ?? {}, connections: options.connections };
  if (options.warmupS) await autocannon({ ...base, duration: options.warmupS });
  const result = await autocannon({ ...base, duration: options.durationS });
  return {
    reqPerSec: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    requests: result['2xx'] + result.non2xx,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Runs the load in a child process and returns its figure. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(options)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    track(child);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult);
      } catch {
        reject(new Error(`the load generator printed no result: ${out}`));
      }
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runHere(JSON.parse(process.argv[2] ?? '{}') as LoadOptions);
  console.log(JSON.stringify(result));
}
