/** The version of Cupola, read once from the package.json above this module (works from app/ and dist/app/). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function find(): { version: string; root: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cupola') return { version: pkg.version ?? '0.0.0', root: dir };
    }
    dir = dirname(dir);
  }
  return { version: '0.0.0', root: process.cwd() };
}

const found = find();

/** Cupola's version string. */
export const VERSION = found.version;
/** The package root (where package.json and dist/ are). */
export const PACKAGE_ROOT = found.root;
