import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configRows, envVarName, readmeState, replaceBlock } from '../../../build/scripts/lib/config-docs.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md');
const hasMarkers = existsSync(README) && readFileSync(README, 'utf8').includes('<!-- config:start -->');

test('env var names follow the path', () => {
  assert.equal(envVarName('api.port'), 'CUPOLA_API_PORT');
  assert.equal(envVarName('rtsp.f1Port'), 'CUPOLA_RTSP_F1_PORT');
  assert.equal(envVarName('dataDir'), 'CUPOLA_DATA_DIR');
});

test('every field is documented, without this machine in it', () => {
  const rows = configRows();
  assert.ok(rows.length > 10);
  for (const row of rows) assert.ok(row.description.length > 0, `${row.path} has no description`);
  assert.equal(rows.find((row) => row.path === 'node.name')?.default, 'host name');
  assert.match(rows.find((row) => row.path === 'dataDir')?.default ?? '', /\$XDG_DATA_HOME\/cupola/);
  assert.equal(rows.find((row) => row.path === 'node.role')?.requiresRestart, true);
  assert.equal(rows.find((row) => row.path === 'auth.adminPassword')?.secret, true);
});

test('replaces only the block between the markers', () => {
  const readme = 'intro\n<!-- config:start -->\nold\n<!-- config:end -->\noutro\n';
  assert.equal(
    replaceBlock(readme, '<!-- config:start -->new<!-- config:end -->'),
    'intro\n<!-- config:start -->new<!-- config:end -->\noutro\n',
  );
  assert.equal(replaceBlock('no markers', 'x'), null);
});

test(
  'README.md config reference is up to date',
  { skip: hasMarkers ? false : 'README.md has no <!-- config:start --> / <!-- config:end --> markers yet' },
  async () => {
    const { current, wanted } = await readmeState(README);
    assert.ok(wanted !== null);
    assert.ok(current === wanted, 'README.md config reference is out of date: run `npm run docs:config`');
  },
);
