#!/usr/bin/env node
// Runs the test tiers in order and closes with `tests: N passed, N failed, N skipped` (the CI reads that line).
//   node build/scripts/run-tests.mjs [static|unit|integration|e2e|cluster ...] | [test/<tier>/file.test.ts ...]
// Every tier = the test/<tier>/**/*.test.ts files under `node --import tsx --test`; static = typecheck, lint, format.
// Afterwards no process the run started may remain (ffmpeg, GStreamer, Chromium, node): that fails the run.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_ID_VAR, findLeftovers, listProcesses, readProcess } from './lib/processes.mjs';
import { closingLine, formatTable, parseSummary, selectTiers, tierOf, totals } from './lib/test-summary.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const MINUTE = 60_000;

/**
 * Per tier: files run at once (2 cores: unit in parallel; tiers with real ffmpeg/Chromium peers one file at a time
 * so that timing-sensitive tests are not starved), the timeout of each test and of each file, and a watchdog for
 * the whole tier. CUPOLA_TEST_CONCURRENCY overrides the concurrency of every tier.
 */
const TIER_SETTINGS = {
  unit: { concurrency: Math.max(2, availableParallelism()), testTimeoutMs: 1 * MINUTE, tierLimitMs: 15 * MINUTE },
  integration: { concurrency: 1, testTimeoutMs: 5 * MINUTE, tierLimitMs: 30 * MINUTE },
  e2e: { concurrency: 1, testTimeoutMs: 5 * MINUTE, tierLimitMs: 25 * MINUTE },
  cluster: { concurrency: 1, testTimeoutMs: 10 * MINUTE, tierLimitMs: 30 * MINUTE },
};

/** The static checks; each counts as one test. `needs` = a check is skipped while none of these files exist. */
const STATIC_CHECKS = [
  { name: 'typecheck app+main', command: ['tsc', '-b', 'tsconfig.json'] },
  {
    name: 'typecheck renderer',
    command: ['tsc', '-p', 'tsconfig.renderer.json', '--noEmit'],
    needs: () => hasFiles('renderer', /\.tsx?$/),
  },
  {
    name: 'typecheck tests',
    command: ['tsc', '-p', 'tsconfig.test.json', '--noEmit'],
    needs: () => hasFiles('test', /\.ts$/) || hasFiles('build/scripts', /\.ts$/),
  },
  { name: 'lint', command: ['eslint', '.'], needs: () => existsSync(join(ROOT, 'eslint.config.js')) },
  { name: 'format', command: ['prettier', '--check', '.'] },
];

const runId = randomUUID();
const self = readProcess(process.pid);
const childEnv = { ...process.env, [RUN_ID_VAR]: runId, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' };
let current = null; // the running child, to stop on SIGINT/SIGTERM
let interrupted = false;

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\nrun-tests: ${signal}, stopping the running tier...`);
    if (current) killGroup(current, 'SIGTERM');
  });
}

let selection;
try {
  selection = selectTiers(process.argv.slice(2));
} catch (error) {
  console.error(`run-tests: ${error.message}`);
  process.exit(2);
}

const results = [];
for (const tier of selection.tiers) {
  if (interrupted) break;
  results.push(tier === 'static' ? await runStatic() : await runTier(tier, listTestFiles(tier)));
}
if (selection.paths.length > 0 && !interrupted) {
  const byTier = new Map();
  for (const path of selection.paths) {
    const files = listFilesUnder(resolve(path)).filter((file) => file.endsWith('.test.ts'));
    if (files.length === 0) console.error(`run-tests: no test files at ${path}`);
    for (const file of files) {
      const tier = tierOf(relative(ROOT, file)) ?? 'unit';
      byTier.set(tier, [...(byTier.get(tier) ?? []), file]);
    }
  }
  if (byTier.size === 0) {
    console.error('run-tests: the given paths hold no *.test.ts files');
    process.exit(2);
  }
  for (const [tier, files] of byTier) results.push(await runTier(tier, files));
}
results.push(await checkLeftovers());

const sum = totals(results);
console.log(`\n${formatTable(results)}\n`);
console.log(closingLine(sum));
process.exitCode = sum.failed > 0 || interrupted || results.some((r) => r.status === 'crashed') ? 1 : 0;

function hasFiles(dir, pattern) {
  return listFilesUnder(join(ROOT, dir)).some((file) => pattern.test(file));
}

function listFilesUnder(path) {
  if (!existsSync(path)) return [];
  if (!readdirSafe(path)) return [path];
  const files = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(path, entry.name);
    if (entry.isDirectory()) files.push(...listFilesUnder(full));
    else files.push(full);
  }
  return files.sort();
}

function readdirSafe(path) {
  try {
    readdirSync(path);
    return true;
  } catch {
    return false;
  }
}

function listTestFiles(tier) {
  return listFilesUnder(join(ROOT, 'test', tier)).filter((file) => file.endsWith('.test.ts'));
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Runs one command in its own process group with streamed output; resolves with its exit code (or signal). */
function runCommand(command, args, { limitMs, label }) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    current = child;
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      console.error(`\nrun-tests: ${label} ran over ${limitMs / MINUTE} min; killing it`);
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), 5000).unref();
    }, limitMs);
    child.on('error', (error) => {
      clearTimeout(watchdog);
      current = null;
      resolvePromise({ code: null, error: error.message, timedOut });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      current = null;
      // The group may hold processes the command left behind: they are reported by the leftover check.
      resolvePromise({ code, signal, timedOut });
    });
  });
}

async function runStatic() {
  const started = Date.now();
  const result = { tier: 'static', status: 'passed', passed: 0, failed: 0, skipped: 0, seconds: 0, note: '' };
  const failures = [];
  for (const check of STATIC_CHECKS) {
    if (interrupted) break;
    if (check.needs && !check.needs()) {
      console.log(`\n── static: ${check.name}: skipped (nothing to check)`);
      result.skipped++;
      continue;
    }
    console.log(`\n── static: ${check.name}: ${check.command.join(' ')}`);
    const [bin, ...args] = check.command;
    const outcome = await runCommand(join(BIN, bin), args, { limitMs: 10 * MINUTE, label: check.name });
    if (outcome.code === 0) result.passed++;
    else {
      result.failed++;
      failures.push(check.name);
    }
  }
  result.seconds = (Date.now() - started) / 1000;
  if (failures.length > 0) {
    result.status = 'failed';
    result.note = `failed: ${failures.join(', ')}`;
  }
  return result;
}

async function runTier(tier, files) {
  const result = { tier, status: 'skipped', passed: 0, failed: 0, skipped: 0, seconds: 0, note: '' };
  if (files.length === 0) {
    console.log(`\n── ${tier}: skipped (no test/${tier}/**/*.test.ts files)`);
    result.note = 'no test files';
    return result;
  }
  const settings = TIER_SETTINGS[tier];
  const concurrency = Number(process.env.CUPOLA_TEST_CONCURRENCY) || settings.concurrency;
  const tapDir = mkdtempSync(join(tmpdir(), `cupola-tests-${tier}-`));
  const tapFile = join(tapDir, 'report.tap');
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${settings.testTimeoutMs}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files.map((file) => relative(ROOT, file)),
  ];
  console.log(
    `\n── ${tier}: ${files.length} file(s), concurrency ${concurrency}, timeout ${settings.testTimeoutMs / 1000} s`,
  );
  const started = Date.now();
  const outcome = await runCommand(process.execPath, args, { limitMs: settings.tierLimitMs, label: tier });
  result.seconds = (Date.now() - started) / 1000;
  const counts = parseSummary(existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '');
  rmSync(tapDir, { recursive: true, force: true });
  if (counts) Object.assign(result, counts);
  const exitedBadly = outcome.code !== 0;
  if (!counts || outcome.timedOut || outcome.error || (exitedBadly && result.failed === 0)) {
    result.status = 'crashed';
    result.failed += 1; // so that the closing line shows the failure too
    result.note = outcome.timedOut
      ? `killed after ${settings.tierLimitMs / MINUTE} min`
      : outcome.error
        ? outcome.error
        : `exit ${outcome.code ?? outcome.signal}${counts ? '' : ', no summary'}`;
  } else {
    result.status = result.failed > 0 ? 'failed' : 'passed';
  }
  return result;
}

/** Fails when processes of this run outlived their tier; prints and kills them. */
async function checkLeftovers() {
  // A check, not a test: it adds to the failures only.
  const result = { tier: 'leftovers', status: 'passed', passed: 0, failed: 0, skipped: 0, seconds: 0, note: 'none' };
  const started = Date.now();
  const options = {
    runId,
    selfPid: process.pid,
    selfStartTicks: self?.startTicks ?? 0,
    strict: Boolean(process.env.CI),
  };
  let leftovers = findLeftovers(listProcesses(), options);
  // Give processes that are shutting down a moment.
  const seen = new Set(leftovers.map((proc) => `${proc.pid} ${proc.comm}`));
  for (let waited = 0; leftovers.length > 0 && waited < 3000; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    leftovers = findLeftovers(listProcesses(), options);
  }
  result.seconds = (Date.now() - started) / 1000;
  if (leftovers.length === 0) {
    if (seen.size > 0) result.note = `none (waited for ${[...seen].join(', ')} to exit)`;
    return result;
  }
  console.error(`\nrun-tests: ${leftovers.length} process(es) outlived the tests:`);
  for (const proc of leftovers) console.error(`  pid ${proc.pid} (parent ${proc.ppid}) ${proc.cmdline.slice(0, 300)}`);
  for (const proc of leftovers) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  console.error('run-tests: killed them; a test or the code under test does not stop its children.');
  return {
    ...result,
    status: 'failed',
    passed: 0,
    failed: 1,
    note: `${leftovers.length} left over: ${[...new Set(leftovers.map((p) => p.comm))].join(', ')}`,
  };
}
