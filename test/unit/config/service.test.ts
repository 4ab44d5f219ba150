import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../app/config/errors.js';
import { loadConfig } from '../../../app/config/load.js';
import { redactConfig } from '../../../app/config/redact.js';
import { ConfigService, flattenPatch, PinnedFieldError } from '../../../app/config/service.js';

function setup(t: { after: (fn: () => void) => void }, fileText?: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-cfgsvc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (fileText !== undefined) writeFileSync(join(dir, 'cupola.yaml'), fileText);
  const loaded = loadConfig({ env: { CUPOLA_DATA_DIR: dir, ...env } });
  return { dir, loaded, svc: new ConfigService(loaded) };
}

test('flattenPatch keeps arrays as leaves and accepts dotted keys', () => {
  assert.deepEqual(flattenPatch({ api: { port: 1, corsOrigins: ['https://a.example'] }, 'node.site': 'x' }), {
    'api.port': 1,
    'api.corsOrigins': ['https://a.example'],
    'node.site': 'x',
  });
});

test('a change is validated, diffed and persisted, keeping the file comments', (t) => {
  const { dir, svc } = setup(t, '# operator note\nnode:\n  site: a # the site\n');
  const change = svc.change({ node: { site: 'b' }, api: { rateLimitPerMinute: 100 } });
  assert.deepEqual(change.changed.sort(), ['api.rateLimitPerMinute', 'node.site']);
  assert.deepEqual(change.restartRequired, []);
  const text = readFileSync(join(dir, 'cupola.yaml'), 'utf8');
  assert.match(text, /# operator note/);
  assert.match(text, /site: b/);
  assert.match(text, /rateLimitPerMinute: 100/);
  svc.commit(change.next);
  assert.equal(svc.config.node.site, 'b');
});

test('sections keep their identity on commit so components see live values', (t) => {
  const { svc } = setup(t);
  const section = svc.config.supervisor;
  svc.commit(svc.change({ supervisor: { stallTimeoutMs: 7000 } }).next);
  assert.equal(section.stallTimeoutMs, 7000);
});

test('restart-only fields are persisted but keep their running value', (t) => {
  const { dir, svc } = setup(t);
  const change = svc.change({ node: { role: 'slave' } });
  assert.deepEqual(change.restartRequired, ['node.role']);
  assert.equal(change.next.node.role, 'all');
  assert.match(readFileSync(join(dir, 'cupola.yaml'), 'utf8'), /role: slave/);
});

test('an invalid change changes nothing, on disk or in memory', (t) => {
  const { dir, svc } = setup(t, 'node:\n  site: a\n');
  const before = readFileSync(join(dir, 'cupola.yaml'), 'utf8');
  assert.throws(
    () => svc.change({ node: { site: 'b' }, api: { port: 'x' } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems[0]!.field, 'api.port');
      return true;
    },
  );
  assert.throws(() => svc.change({ api: { nope: 1 } }), ConfigError);
  assert.equal(readFileSync(join(dir, 'cupola.yaml'), 'utf8'), before);
  assert.equal(svc.config.node.site, 'a');
});

test('fields pinned by the environment are refused', (t) => {
  const { dir, svc } = setup(t, undefined, { CUPOLA_NODE_SITE: 'pinned' });
  assert.throws(
    () => svc.change({ node: { site: 'other' } }),
    (err: unknown) => err instanceof PinnedFieldError && err.field === 'node.site',
  );
  assert.equal(existsSync(join(dir, 'cupola.yaml')), false);
});

test('null resets a field to its default', (t) => {
  const { svc } = setup(t, 'api:\n  rateLimitPerMinute: 50\n');
  const change = svc.change({ api: { rateLimitPerMinute: null } });
  assert.equal(change.next.api.rateLimitPerMinute, 6000);
});

test('redaction hides secrets that are set', (t) => {
  const { loaded } = setup(t, undefined, { CUPOLA_AUTH_ADMIN_PASSWORD: 'super-secret-1' });
  const shown = JSON.stringify(redactConfig(loaded.config));
  assert.doesNotMatch(shown, /super-secret-1/);
  assert.match(shown, /"adminPassword":"\[redacted\]"/);
});
