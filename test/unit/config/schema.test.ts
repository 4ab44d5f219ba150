import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../app/config/errors.js';
import { configFields, envName } from '../../../app/config/fields.js';
import { loadConfig, validateConfig } from '../../../app/config/load.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems.map((p) => `${p.field}: ${p.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('defaults every role relies on', () => {
  const c = validateConfig({});
  assert.equal(c.api.host, '127.0.0.1');
  assert.equal(c.api.port, 8080);
  assert.equal(c.rtmp.port, 1935);
  assert.equal(c.rtsp.f1Port, 8554);
  assert.equal(c.rtsp.f2Port, 8555);
  assert.equal(c.node.role, 'all');
  assert.equal(c.node.site, 'default');
  assert.match(c.node.name, /^[a-z0-9][a-z0-9_-]*$/);
  assert.equal(c.auth.adminPassword, undefined);
  assert.ok(c.dataDir.endsWith('cupola'));
});

test('every field has a description and an env name in upper snake case', () => {
  const fields = configFields();
  assert.ok(fields.length >= 20);
  for (const f of fields) {
    assert.ok(f.description.length > 10, `${f.path} has no description`);
    assert.match(f.env, /^CUPOLA_[A-Z0-9_]+$/);
  }
  assert.equal(envName('api.port'), 'CUPOLA_API_PORT');
  assert.equal(envName('rtsp.f1Port'), 'CUPOLA_RTSP_F1_PORT');
  assert.equal(envName('dataDir'), 'CUPOLA_DATA_DIR');
  assert.equal(envName('auth.adminPassword'), 'CUPOLA_AUTH_ADMIN_PASSWORD');
  const restart = fields.filter((f) => f.requiresRestart).map((f) => f.path);
  assert.ok(restart.includes('dataDir') && restart.includes('node.role'));
  assert.deepEqual(
    fields.filter((f) => f.secret).map((f) => f.path),
    [
      'rtsp.users',
      'auth.adminPassword',
      'compressor.slaves',
      'master.slaves',
      'master.compressors',
      'relay.sse.authHeader',
    ],
  );
});

test('each rule names the field, the rule and the value', () => {
  const cases: Array<[unknown, string]> = [
    [{ api: { port: 'abc' } }, 'api.port: expected integer 1-65535, or 0 for any free port, got "abc"'],
    [{ api: { port: -1 } }, 'api.port: expected integer 1-65535, or 0 for any free port, got -1'],
    [{ api: { port: 70000 } }, 'api.port: expected integer 1-65535, or 0 for any free port, got 70000'],
    [{ api: { port: 80.5 } }, 'api.port: expected integer 1-65535, or 0 for any free port, got 80.5'],
    [{ rtsp: { f1Port: -1 } }, 'rtsp.f1Port: expected integer 1-65535, or 0 for any free port, got -1'],
    [{ rtmp: { port: 65536 } }, 'rtmp.port: expected integer 1-65535, or 0 for any free port, got 65536'],
    [{ rtsp: { f2Port: 'x' } }, 'rtsp.f2Port: expected integer 1-65535, or 0 for any free port, got "x"'],
    [{ node: { role: 'boss' } }, 'node.role: expected one of slave, compressor, master, all, got "boss"'],
    [
      { node: { site: 'Site A' } },
      'node.site: expected 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit, got "Site A"',
    ],
    [{ api: { prot: 1 } }, 'api.prot: unknown field'],
    [{ bogus: true }, 'bogus: unknown field'],
    [
      { supervisor: { stallTimeoutMs: 10 } },
      'supervisor.stallTimeoutMs: expected integer milliseconds 500-600000, got 10',
    ],
    [
      { api: { corsOrigins: ['not a url'] } },
      'api.corsOrigins.0: expected an origin such as https://ops.example.com, got "not a url"',
    ],
  ];
  for (const [input, expected] of cases)
    assert.deepEqual(
      problems(() => validateConfig(input)),
      [expected],
    );
});

test('a secret is never echoed in an error', () => {
  const [msg] = problems(() => validateConfig({ auth: { adminPassword: 'short' } }));
  assert.equal(msg, 'auth.adminPassword: expected at least 8 characters');
  const [inside] = problems(() =>
    validateConfig({ rtsp: { users: [{ user: 'cam', password: 'short', read: ['*'] }] } }),
  );
  assert.equal(inside, 'rtsp.users.0.password: expected at least 8 characters', 'nor a field inside a secret one');
});

test('load order: defaults, then file, then environment, then flags', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'api:\n  port: 9001\n  host: 0.0.0.0\nnode:\n  site: file-site\n  name: file-name\n');
  const env = { CUPOLA_API_PORT: '9002', CUPOLA_NODE_SITE: 'env-site', CUPOLA_DATA_DIR: dir, UNRELATED: 'x' };
  const loaded = loadConfig({ file, env, flags: { 'api.port': '9003' } });
  assert.equal(loaded.config.api.port, 9003, 'flag wins over env');
  assert.equal(loaded.config.node.site, 'env-site', 'env wins over file');
  assert.equal(loaded.config.api.host, '0.0.0.0', 'file wins over default');
  assert.equal(loaded.config.node.name, 'file-name');
  assert.equal(loaded.config.rtmp.port, 1935, 'default when nothing sets it');
  assert.equal(loaded.pinned.get('api.port'), 'flag');
  assert.equal(loaded.pinned.get('node.site'), 'env');
  assert.equal(loaded.pinned.has('api.host'), false);
});

test('without --config the data dir file is read, and env coerces each type', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cupola.yaml'), 'node:\n  site: from-data-dir\n');
  const loaded = loadConfig({
    env: {
      CUPOLA_DATA_DIR: dir,
      CUPOLA_API_CORS_ORIGINS: 'https://a.example, https://b.example',
      CUPOLA_LOG_LEVEL: 'debug',
    },
  });
  assert.equal(loaded.file, join(dir, 'cupola.yaml'));
  assert.equal(loaded.config.node.site, 'from-data-dir');
  assert.deepEqual(loaded.config.api.corsOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(loaded.config.log.level, 'debug');
});

test('bad env values and bad files are reported with the field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cupola-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(
    problems(() => loadConfig({ env: { CUPOLA_API_PORT: 'abc', CUPOLA_DATA_DIR: dir } })),
    ['api.port: expected integer 1-65535, or 0 for any free port, got "abc"'],
  );
  assert.deepEqual(
    problems(() => loadConfig({ env: {}, flags: { 'api.nope': '1' } })),
    ['api.nope: unknown field (from a command-line flag)'],
  );
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'api:\n  port: [1\n');
  const [syntax] = problems(() => loadConfig({ file: bad, env: {} }));
  assert.match(syntax!, /^\(file\): .*bad\.yaml: /);
  writeFileSync(bad, '- a\n- b\n');
  assert.match(problems(() => loadConfig({ file: bad, env: {} }))[0]!, /expected a mapping/);
  assert.match(problems(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }))[0]!, /does not exist/);
  writeFileSync(bad, 'api:\n  port: 1\n  port: 2\n');
  assert.match(problems(() => loadConfig({ file: bad, env: {} }))[0]!, /Map keys must be unique/);
});
