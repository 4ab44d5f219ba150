/** electron-builder.yml: valid against electron-builder's own schema, and a real `--dir` package has the right
 * app.asar layout, unpacked native code, flipped fuses, and a core that still starts from the packaged files.
 * Needs the build (`npx tsc -b tsconfig.json`, `npx vite build --config renderer/vite.config.ts`) to have run. */
import * as asar from '@electron/asar';
import { Ajv } from 'ajv';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { requireBuilt, ROOT, startCoreProcess } from '../../e2e/helpers/core-process.js';

const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Wire order of @electron/fuses V1: RunAsNode, CookieEncryption, NodeOptions, NodeCliInspect, AsarIntegrity,
// OnlyLoadAppFromAsar, BrowserV8Snapshot, GrantFileProtocolExtraPrivileges. '0' off, '1' on.
const EXPECTED_FUSES = '11000100';

function config(): Record<string, unknown> {
  return parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
}

test('electron-builder.yml is valid against app-builder-lib/scheme.json', () => {
  const schema = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8'),
  ) as object;
  const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  const cfg = config();
  assert.ok(validate(cfg), ajv.errorsText(validate.errors, { separator: '\n' }));
  assert.equal(validate({ ...cfg, apppId: 'typo' }), false, 'the schema really rejects unknown keys');
  assert.equal(cfg.appId, 'app.cupola.desktop');
  assert.equal(cfg.productName, 'Cupola');
  assert.equal(cfg.npmRebuild, true, 'real releases must rebuild better-sqlite3 for Electron');
  // A worker spawned as the Electron binary with ELECTRON_RUN_AS_NODE only runs as Node while the fuse is on.
  const runsAsNode = readdirSync(join(ROOT, 'app'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => readFileSync(join(ROOT, 'app', f), 'utf8').includes("ELECTRON_RUN_AS_NODE: '1'"));
  assert.ok(runsAsNode.length > 0, 'the media plane worker is spawned with ELECTRON_RUN_AS_NODE');
  assert.equal((cfg.electronFuses as { runAsNode?: boolean }).runAsNode, true, `needed by ${runsAsNode.join(', ')}`);
});

/** A stand-in for the Electron binary: a script carrying a V1 fuse wire so @electron/fuses has something to flip. */
function standInElectron(dir: string): void {
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, 8]), Buffer.from('10110100')]);
  writeFileSync(join(dir, 'electron'), Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n'), wire]), { mode: 0o755 });
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

test('electron-builder --dir packages the built app', { timeout: 180_000 }, async (t) => {
  requireBuilt('dist/main/main.js', 'dist/main/preload/preload.js', 'dist/app/cli.js', 'dist/renderer/index.html');
  const tmp = mkdtempSync(join(tmpdir(), 'cupola-pack-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const electronDist = join(tmp, 'electron-dist');
  const out = join(tmp, 'out');
  await run('mkdir', ['-p', electronDist]);
  standInElectron(electronDist);

  // npmRebuild=false: Electron's headers cannot be downloaded here (see the comment in electron-builder.yml).
  const builder = await run(process.execPath, [
    join(ROOT, 'node_modules', 'electron-builder', 'cli.js'),
    '--dir',
    '--linux',
    '--publish',
    'never',
    `-c.electronDist=${electronDist}`,
    '-c.npmRebuild=false',
    `-c.directories.output=${out}`,
  ]);
  assert.equal(builder.code, 0, builder.output);

  const appDir = join(out, 'linux-unpacked');
  const archive = join(appDir, 'resources', 'app.asar');
  assert.ok(existsSync(archive), `no app.asar:\n${builder.output}`);
  const files = new Set(asar.listPackage(archive, { isPack: false }).map((p) => p.replace(/^\//, '')));

  await t.test('app.asar holds the built app and nothing else of the repo', () => {
    for (const f of [
      'package.json',
      'dist/main/main.js',
      'dist/main/preload/preload.js',
      'dist/app/cli.js',
      'dist/app/core.js',
      'dist/renderer/index.html',
      'resources/icon.png',
      'resources/tray/tray-ok.png',
      'resources/tray/tray-down@2x.png',
    ]) {
      assert.ok(files.has(f), `missing ${f}`);
    }
    const leaked = [...files].filter(
      (f) =>
        /^(app|main|renderer|test|build|\.scratch)\//.test(f) ||
        /^dist\/.*\.(d\.ts|tsbuildinfo|map)$/.test(f) ||
        f.startsWith('dist/.tsbuild'),
    );
    assert.deepEqual(leaked, [], 'sources, tests, declarations or maps packaged');
    assert.ok(
      ![...files].some((f) => f.startsWith('node_modules/electron/')),
      'electron itself is not a runtime dependency',
    );
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as Record<string, unknown>;
    assert.equal(pkg.main, 'dist/main/main.js');
    assert.equal(pkg.desktopName, 'cupola.desktop');
  });

  await t.test('native addons are unpacked next to the archive', () => {
    const addons = [...files].filter((f) => f.endsWith('.node'));
    assert.ok(
      addons.includes('node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
      'better-sqlite3 addon packaged',
    );
    for (const f of addons) {
      assert.equal((asar.statFile(archive, f) as { unpacked?: boolean }).unpacked, true, `${f} must be unpacked`);
      assert.ok(existsSync(join(`${archive}.unpacked`, f)), `${f} missing from app.asar.unpacked`);
    }
  });

  await t.test('the executable is named cupola and its fuses are flipped', () => {
    const bin = readFileSync(join(appDir, 'cupola'));
    const at = bin.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    assert.equal(bin.subarray(at + 2, at + 10).toString('latin1'), EXPECTED_FUSES);
  });

  await t.test('the packaged core starts and serves the UI (Node ABI build, so it runs under plain node)', async () => {
    const extracted = join(tmp, 'extracted');
    asar.extractAll(archive, extracted);
    const core = await startCoreProcess({}, extracted);
    try {
      const res = await fetch(`${core.url}/`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /Content-Security-Policy[\s\S]*script-src 'self'/);
    } finally {
      await core.stop();
    }
  });
});
