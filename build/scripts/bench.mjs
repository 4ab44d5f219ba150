#!/usr/bin/env node
// Runs one benchmark: `npm run bench -- <name>` runs test/bench/<name>.ts, which prints one JSON line on stdout
// ({"bench","figure","reference","ratio","unit"}); diagnostics go to stderr. Exits with the benchmark's code.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCH_DIR = join(ROOT, 'test', 'bench');
const available = existsSync(BENCH_DIR)
  ? readdirSync(BENCH_DIR)
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
      .map((name) => name.slice(0, -3))
  : [];
const [name, ...rest] = process.argv.slice(2);

if (!name || !/^[a-z0-9-]+$/.test(name) || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(', ') || 'none'})`);
  process.exit(2);
}

const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`), ...rest], {
  cwd: ROOT,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal) console.error(`bench: ${name} was killed by ${signal}`);
  process.exit(code ?? 1);
});
