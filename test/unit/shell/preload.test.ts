/** The sandboxed preload: self-contained CommonJS, only the DesktopBridge exposed, channels in step with main. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { IPC_CHANNELS, parseTrayStatusArgs } from '../../../main/ipc-contract.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const PRELOAD_DIR = join(ROOT, 'main', 'preload');
const source = readFileSync(join(PRELOAD_DIR, 'preload.ts'), 'utf8');
// Comments may talk about ipcRenderer; only code counts.
const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');

test('the preload directory is a CommonJS scope, so tsc emits CommonJS for it', () => {
  const pkg = JSON.parse(readFileSync(join(PRELOAD_DIR, 'package.json'), 'utf8')) as { type?: string };
  assert.equal(pkg.type, 'commonjs');
  const format = ts.getImpliedNodeFormatForFile(join(PRELOAD_DIR, 'preload.ts') as ts.Path, undefined, ts.sys, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  assert.equal(format, ts.ModuleKind.CommonJS);
});

test('compiled, the preload requires nothing but electron (sandboxed require knows no local files)', () => {
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  }).outputText;
  const requires = [...out.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  assert.deepEqual(requires, ['electron']);
  assert.doesNotMatch(out, /^\s*import\s/m, 'no ESM import statements left');
  assert.doesNotMatch(out, /\bimport\(/, 'no dynamic import');
});

test('only window.cupolaDesktop is exposed, and never the raw ipcRenderer', () => {
  const exposed = [...code.matchAll(/exposeInMainWorld\(\s*'([^']+)'/g)].map((m) => m[1]);
  assert.deepEqual(exposed, ['cupolaDesktop']);
  // Every ipcRenderer use is an .invoke on a fixed channel; nothing hands the object (or .on/.send) to the page.
  const uses = [...code.matchAll(/ipcRenderer(\.\w+)?/g)].map((m) => m[1] ?? '(bare)');
  assert.ok(uses.length > 0);
  assert.deepEqual([...new Set(uses)], ['.invoke']);
  assert.match(code, /satisfies DesktopBridge/);
});

test('the preload invokes exactly the channels main handles', () => {
  const invoked = [...code.matchAll(/\.invoke\(\s*'([^']+)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(invoked, Object.values(IPC_CHANNELS).sort());
});

test('tray status arguments from the renderer are validated', () => {
  assert.deepEqual(parseTrayStatusArgs('degraded', 'cam 3 offline'), { status: 'degraded', detail: 'cam 3 offline' });
  assert.deepEqual(parseTrayStatusArgs('ok', undefined), { status: 'ok', detail: '' });
  assert.equal(parseTrayStatusArgs('on-fire', 'x'), null);
  assert.equal(parseTrayStatusArgs(1, 'x'), null);
  assert.equal(parseTrayStatusArgs('down', { toString: () => 'x' }), null);
  assert.equal(parseTrayStatusArgs('down', 'a\nb\u0007c')?.detail, 'a b c');
  assert.equal(parseTrayStatusArgs('down', 'x'.repeat(1000))?.detail.length, 200);
});
