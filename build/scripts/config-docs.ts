/**
 * Prints, writes or checks the config reference in README.md (between <!-- config:start --> and <!-- config:end -->).
 *   node --import tsx build/scripts/config-docs.ts           print the block
 *   node --import tsx build/scripts/config-docs.ts --write   replace the block in README.md
 *   node --import tsx build/scripts/config-docs.ts --check   exit 1 if README.md is out of date
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { END_MARKER, START_MARKER, readmeState, renderConfigBlock } from './lib/config-docs.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');
const mode = process.argv[2];

if (mode === undefined) {
  console.log(await renderConfigBlock(README));
} else if (mode === '--write' || mode === '--check') {
  const { current, wanted } = await readmeState(README);
  if (wanted === null) {
    console.error(`config-docs: README.md has no ${START_MARKER} … ${END_MARKER} block`);
    process.exit(1);
  }
  if (wanted === current) {
    console.log('config-docs: README.md is up to date');
  } else if (mode === '--write') {
    await writeFile(README, wanted);
    console.log('config-docs: README.md updated');
  } else {
    console.error('config-docs: README.md is out of date; run `npm run docs:config`');
    process.exit(1);
  }
} else {
  console.error('usage: node --import tsx build/scripts/config-docs.ts [--write | --check]');
  process.exit(2);
}
