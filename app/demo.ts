/** `cupola demo`: one node with every role on a fresh data dir, printing the dashboard URL and the admin login.
 * Later releases start the full slave → compressor → master topology with synthetic cameras here. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config/load.js';
import { serve } from './serve.js';

/** Options of the demo. */
export interface DemoOptions {
  port: number;
}

/** Runs the demo until Ctrl-C, then removes its data dir. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cupola-demo-'));
  try {
    const loaded = loadConfig({
      env: {},
      flags: { dataDir, 'node.role': 'all', 'node.name': 'demo', 'api.port': String(opts.port) },
    });
    return await serve(loaded);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
