#!/usr/bin/env node
// Makes the tree ready to run: node_modules matching the lockfile, the system tools, and fresh build outputs.
//   node build/scripts/bootstrap.mjs [--for-tests] [--build-only] [--quiet]
// --for-tests also needs Chromium and GStreamer; --build-only skips the system tools. Runs before node_modules
// exists, so it uses node builtins only. A second run with nothing to do takes well under a second.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FONT_FILES,
  buildDecision,
  depsStamp,
  installCommand,
  installedTreeDiff,
  packagesFor,
  parseArgs,
  requiredTools,
  scanInputs,
} from './lib/bootstrap-lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPS_STAMP = join(ROOT, 'node_modules', '.cupola-bootstrap');
const STAMP_DIR = join(ROOT, 'dist', '.cupola-stamps');
const SHARED_INPUTS = ['package-lock.json', 'tsconfig.base.json'];

/** Build targets: what they read, what they write, how to build them. */
const TARGETS = [
  {
    name: 'app+main',
    inputs: [
      ...SHARED_INPUTS,
      'app',
      'main',
      'tsconfig.json',
      'tsconfig.app.json',
      'tsconfig.main.json',
      'build/forbidden',
    ],
    outputs: ['dist/app/cli.js'],
    command: [join(ROOT, 'node_modules', '.bin', 'tsc'), '-b', 'tsconfig.json'],
  },
  {
    name: 'renderer',
    inputs: [...SHARED_INPUTS, 'renderer', 'app/defs', 'resources', 'tsconfig.renderer.json'],
    outputs: ['dist/renderer/index.html'],
    command: [join(ROOT, 'node_modules', '.bin', 'vite'), 'build', '--config', 'renderer/vite.config.ts'],
    skipUnless: 'renderer/vite.config.ts',
  },
];

class BootstrapError extends Error {}

const started = Date.now();
const summary = [];
let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`bootstrap: ${error.message}`);
  process.exit(2);
}

try {
  ensureDependencies();
  ensureSqlite();
  if (!options.buildOnly) ensureTools(options.forTests);
  for (const target of TARGETS) buildTarget(target);
  if (!options.quiet) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`bootstrap (${seconds} s):\n${summary.map((line) => `  ${line}`).join('\n')}`);
  }
} catch (error) {
  if (summary.length > 0) console.error(summary.map((line) => `  ${line}`).join('\n'));
  console.error(`\nbootstrap failed: ${error instanceof BootstrapError ? error.message : error.stack}`);
  process.exit(1);
}

/** Runs a command; its output goes to the terminal, or is kept and shown only on failure with --quiet. */
function run(command, args, { env = process.env, what } = {}) {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    env,
    stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new BootstrapError(`${what}: cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    if (options.quiet) process.stderr.write(`${result.stdout}${result.stderr}`);
    const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.status}`;
    throw new BootstrapError(`${what}: \`${[command, ...args].join(' ')}\` ${how}`);
  }
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** (a) node_modules as the lockfile says, checked by a stamp holding the lockfile's hash and Node's major. */
function ensureDependencies() {
  const lockText = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
  const expected = depsStamp(lockText);
  const current = existsSync(DEPS_STAMP) ? readFileSync(DEPS_STAMP, 'utf8') : null;
  if (current === expected) {
    summary.push('dependencies: node_modules matches package-lock.json');
    return;
  }
  // Installed or changed without the bootstrap (npm ci / npm install by hand): adopt the tree when npm's own record
  // of it (node_modules/.package-lock.json) agrees with the lockfile, rather than reinstall everything.
  const hidden = readJson(join(ROOT, 'node_modules', '.package-lock.json'));
  const diff = installedTreeDiff(JSON.parse(lockText), hidden, (path) => existsSync(join(ROOT, path)));
  if (diff === null) {
    writeFileSync(DEPS_STAMP, expected);
    summary.push('dependencies: node_modules (installed without the bootstrap) matches package-lock.json');
    return;
  }
  const why = existsSync(join(ROOT, 'node_modules')) ? diff : 'no node_modules yet';
  installDependencies(why, expected);
}

/** `npm ci`, then the stamp. */
function installDependencies(why, expected) {
  if (!options.quiet) console.log(`bootstrap: installing dependencies with npm ci (${why})...`);
  // Electron's binary cannot be downloaded here and is not needed to build or test; only this env var skips it.
  // ffmpeg-static is optional: its download fails without network and npm drops it, keeping the install green.
  const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
  rmSync(DEPS_STAMP, { force: true });
  run('npm', ['ci', '--no-audit', '--no-fund'], { env, what: 'installing dependencies' });
  writeFileSync(DEPS_STAMP, expected);
  summary.push('dependencies: installed with npm ci');
}

function sqliteLoads() {
  const check = "require('better-sqlite3')(':memory:').prepare('select 1 as one').get().one === 1 || process.exit(1)";
  const result = spawnSync(process.execPath, ['-e', check], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = String(result.stderr ?? '').split('\n');
  const error = lines.find((line) => /Error/.test(line))?.trim() ?? lines.join(' ').trim();
  return { ok: result.status === 0, missing: /Cannot find module 'better-sqlite3'/.test(error), error };
}

/** better-sqlite3's native module must load in this Node; rebuild it once if it does not. */
function ensureSqlite() {
  let check = sqliteLoads();
  if (check.ok) {
    summary.push('better-sqlite3: native module loads');
    return;
  }
  if (check.missing) {
    // The package itself is gone: node_modules is broken (an interrupted install), whatever the stamp says.
    summary.splice(0, summary.length, ...summary.filter((line) => !line.startsWith('dependencies:')));
    installDependencies(
      'better-sqlite3 is missing from node_modules',
      depsStamp(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')),
    );
    check = sqliteLoads();
    if (check.ok) {
      summary.push('better-sqlite3: native module loads');
      return;
    }
  }
  if (!options.quiet) console.log(`bootstrap: better-sqlite3 does not load (${check.error}); rebuilding it...`);
  run('npm', ['rebuild', 'better-sqlite3'], { what: 'rebuilding better-sqlite3' });
  const after = sqliteLoads();
  if (!after.ok) throw new BootstrapError(`better-sqlite3 still does not load after a rebuild: ${after.error}`);
  summary.push('better-sqlite3: rebuilt for this Node');
}

function onPath(program) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

function missingTools(forTests) {
  const { programs, elements } = requiredTools(forTests);
  const missing = programs.filter((program) => !onPath(program));
  if (!FONT_FILES.some((file) => existsSync(file))) missing.push('dejavu-font');
  if (elements.length > 0) {
    if (!onPath('gst-inspect-1.0')) missing.push(...elements);
    else {
      for (const element of elements) {
        const result = spawnSync('gst-inspect-1.0', ['--exists', element], { stdio: 'ignore' });
        if (result.status !== 0) missing.push(element);
      }
    }
  }
  return missing;
}

/** (b) ffmpeg/ffprobe, and for tests Chromium and GStreamer; installed with apt-get when we may, named otherwise. */
function ensureTools(forTests) {
  let missing = missingTools(forTests);
  if (missing.length === 0) {
    summary.push(
      `tools: ${forTests ? 'ffmpeg, ffprobe, chromium, GStreamer with its RTSP/H.264 plugins' : 'ffmpeg, ffprobe'}, a DejaVu font`,
    );
    return;
  }
  const packages = packagesFor(missing);
  const asRoot = process.getuid?.() === 0;
  const canApt = asRoot && existsSync('/etc/debian_version') && onPath('apt-get');
  if (!canApt) {
    throw new BootstrapError(
      `missing ${missing.join(', ')}.\nInstall the Debian/Ubuntu packages ${packages.join(' ')}:\n  ${installCommand(packages, asRoot)}`,
    );
  }
  if (!options.quiet) console.log(`bootstrap: missing ${missing.join(', ')}; installing ${packages.join(' ')}...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], { env, what: 'apt-get update' });
  run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, what: 'installing packages' });
  missing = missingTools(forTests);
  if (missing.length > 0) throw new BootstrapError(`still missing after apt-get install: ${missing.join(', ')}`);
  summary.push(`tools: installed ${packages.join(' ')}`);
}

function hasFiles(dir) {
  try {
    return readdirSync(join(ROOT, dir)).length > 0;
  } catch {
    return false;
  }
}

/** (c) Builds a target when an input is newer than the start of its last successful build. */
function buildTarget(target) {
  if (target.skipUnless && !existsSync(join(ROOT, target.skipUnless))) {
    summary.push(`${target.name}: skipped (${target.skipUnless} does not exist yet)`);
    return;
  }
  if (target.name === 'app+main' && !hasFiles('app') && !hasFiles('main')) {
    summary.push(`${target.name}: skipped (no sources)`);
    return;
  }
  const stampPath = join(STAMP_DIR, `${target.name}.json`);
  const inputs = scanInputs(target.inputs, ROOT);
  const outputsExist = target.outputs.every((path) => existsSync(join(ROOT, path)));
  const decision = buildDecision({ stamp: readJson(stampPath), inputs, outputsExist });
  if (!decision.build) {
    summary.push(`${target.name}: up to date`);
    return;
  }
  const startedAt = Date.now();
  if (!options.quiet) console.log(`bootstrap: building ${target.name} (${decision.why})...`);
  rmSync(stampPath, { force: true });
  run(target.command[0], target.command.slice(1), { what: `building ${target.name}` });
  const missing = target.outputs.filter((path) => !existsSync(join(ROOT, path)));
  if (missing.length > 0) throw new BootstrapError(`building ${target.name} did not produce ${missing.join(', ')}`);
  mkdirSync(STAMP_DIR, { recursive: true });
  writeFileSync(stampPath, `${JSON.stringify({ startedAt, fingerprint: inputs.fingerprint, files: inputs.count })}\n`);
  summary.push(`${target.name}: built (${decision.why}) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}
