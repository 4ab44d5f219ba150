/** Habit 1: the core never imports Electron. Checked twice: a source scan of app/, and proof that the app
 * typecheck (tsconfig.app.json maps `electron` to build/forbidden/electron.ts) really fails on such an import. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const FORBIDDEN_MESSAGE = 'app/ must not import electron';

// Static and dynamic imports, re-exports, require(), `import x = require()`; also deep paths like 'electron/main'.
const ELECTRON_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]electron(?:\/[^'"]*)?['"]/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.[cm]?tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

test('the import pattern catches every spelling', () => {
  for (const line of [
    "import { app } from 'electron';",
    'import type { WebContents } from "electron";',
    "export { shell } from 'electron/main';",
    "const e = await import('electron');",
    "import electron = require('electron');",
    "const { ipcMain } = require( 'electron' );",
  ]) {
    assert.match(line, ELECTRON_IMPORT, line);
  }
  assert.doesNotMatch("import x from 'electron-log';", ELECTRON_IMPORT);
  assert.doesNotMatch("// no 'electron' here", ELECTRON_IMPORT);
});

test('no file under app/ imports electron', () => {
  const files = sources(join(ROOT, 'app'));
  assert.ok(files.length > 0, 'app/ has sources');
  const offenders = files.filter((f) => ELECTRON_IMPORT.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
  assert.deepEqual(offenders, []);
});

// Never write into app/ (others typecheck it concurrently): the probe lives in a temp dir, in a tsconfig that
// extends tsconfig.app.json. Only what must differ is overridden: which files, no emit, a rootDir that admits the
// temp dir, and where @types live. `paths` (the electron mapping) and `baseUrl` still resolve from tsconfig.app.json.
async function typecheckAsApp(body: string): Promise<{ status: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-electron-probe-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'probe.ts'), body);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.app.json'),
        compilerOptions: {
          noEmit: true,
          composite: false,
          declaration: false,
          incremental: false,
          rootDir: '/',
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        include: [join(dir, 'probe.ts')],
      }),
    );
    return await new Promise((resolve) => {
      execFile(
        process.execPath,
        [TSC, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
        (err, stdout, stderr) => {
          const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ status, output: `${stdout}${stderr}` });
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the app typecheck fails on an electron import, and only because of it', { timeout: 120_000 }, async () => {
  // Control: the same setup with a harmless import must pass, or the failure of the probe would prove nothing.
  const [control, probe] = await Promise.all([
    typecheckAsApp("import { join } from 'node:path';\nexport const x: string = join('a', 'b');\n"),
    typecheckAsApp("import electron from 'electron';\nexport const e = electron;\n"),
  ]);
  assert.equal(control.status, 0, `control probe should typecheck:\n${control.output}`);

  assert.notEqual(probe.status, 0, 'typecheck must fail');
  assert.ok(probe.output.includes(FORBIDDEN_MESSAGE), `error should name the rule:\n${probe.output}`);
  assert.match(probe.output, /build\/forbidden\/electron\.ts/);
});
