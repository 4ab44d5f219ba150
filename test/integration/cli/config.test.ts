/** The built `cupola` CLI and its config: exit codes, messages naming field and rule, load order, redaction. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { checkBuild, cliEnv, PACKAGE_ROOT, runCli, tempDir } from '../../helpers/core.js';
import { mapLimit } from '../../helpers/http.js';

before(checkBuild);

const PORT_RULE = 'api.port: expected integer 1-65535, or 0 for any free port, got "abc"';

function write(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

type Printed = {
  node: { site: string; name: string };
  api: { rateLimitPerMinute: number; port: number };
  auth: Record<string, unknown>;
  dataDir: string;
};

test('cupola version, config schema, and config check of a valid file', async (t) => {
  const dir = tempDir(t);
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  const file = write(dir, 'good.yaml', '# a comment\nnode:\n  site: north\napi:\n  port: 9000\n');
  const [version, schema, check] = await Promise.all([
    runCli(['version'], cliEnv(dir)),
    runCli(['config', 'schema'], cliEnv(dir)),
    runCli(['config', 'check', file], cliEnv(dir)),
  ]);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `cupola ${pkg.version}\n`);
  assert.equal(schema.code, 0, schema.stderr);
  const props = (JSON.parse(schema.stdout) as { properties: Record<string, { properties?: Record<string, unknown> }> })
    .properties;
  assert.ok(props.api?.properties?.port && props.auth?.properties?.adminPassword, 'config schema lists the fields');
  assert.equal(check.code, 0, check.stderr);
  assert.equal(check.stdout, `${file}: ok\n`);
  assert.equal(check.stderr, '');
});

test('invalid config files → exit 2 with stderr naming the field and the rule (config check and serve)', async (t) => {
  const dir = tempDir(t);
  const cases: { name: string; text: string; expect: RegExp; serve?: boolean }[] = [
    {
      name: 'port-abc.yaml',
      text: 'api: { port: "abc" }\n',
      expect: /^config error: api\.port: expected integer 1-65535, or 0 for any free port, got "abc"$/m,
      serve: true,
    },
    { name: 'unknown.yaml', text: 'api:\n  prot: 8080\n', expect: /^config error: api\.prot: unknown field$/m },
    {
      name: 'bad-yaml.yaml',
      text: 'api:\n  port: 1\n   host: x\n',
      expect: /^config error: \(file\): .*bad-yaml\.yaml: .*line 2/m,
      serve: true,
    },
    {
      name: 'bad-role.yaml',
      text: 'node:\n  role: boss\n',
      expect: /^config error: node\.role: expected one of slave, compressor, master, all/m,
    },
  ];
  const data = tempDir(t);
  const runs = cases.flatMap((c) => {
    const file = write(dir, c.name, c.text);
    const out = [{ c, how: 'config check', args: ['config', 'check', file] }];
    if (c.serve) out.push({ c, how: 'serve', args: ['serve', '--config', file, '--data-dir', data] });
    return out;
  });
  await mapLimit(runs, 3, async ({ c, how, args }) => {
    const r = await runCli(args, cliEnv(dir));
    assert.equal(r.code, 2, `${c.name}: ${how} exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, c.expect, `${c.name}: ${how} stderr`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${c.name}: ${how}: stack trace on stderr`);
  });
  assert.ok(!existsSync(join(data, 'cupola.db')), 'serve with a bad config must not create a database');
});

test("CUPOLA_API_PORT=abc → exit 2 with the same message shape; bad flags and the data dir's cupola.yaml too", async (t) => {
  const home = tempDir(t);
  const badDataDir = tempDir(t);
  write(badDataDir, 'cupola.yaml', 'api: { port: "abc" }\n');
  const [env, flag, dataDirFile, unknown, badOption] = await Promise.all([
    runCli(['serve', '--data-dir', tempDir(t)], cliEnv(home, { CUPOLA_API_PORT: 'abc' })),
    runCli(['config', 'print', '--set', 'api.port=abc'], cliEnv(home)),
    runCli(['serve', '--data-dir', badDataDir], cliEnv(home)),
    runCli(['config', 'print', '--set', 'api.nope=1'], cliEnv(home)),
    runCli(['serve', '--bogus'], cliEnv(home)),
  ]);
  for (const [what, r] of [
    ['CUPOLA_API_PORT', env],
    ['--set', flag],
    ['<dataDir>/cupola.yaml', dataDirFile],
  ] as const) {
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), `config error: ${PORT_RULE}`, what);
  }
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^config error: api\.nope: unknown field/m);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /usage:/);
});

test('load order: defaults → file → env → flags, seen through config print', async (t) => {
  const dir = tempDir(t);
  const data = tempDir(t);
  const file = write(
    dir,
    'order.yaml',
    'node:\n  site: from-file\n  name: file-name\napi:\n  rateLimitPerMinute: 111\n',
  );
  // Without --config, <dataDir>/cupola.yaml is the file layer.
  write(data, 'cupola.yaml', 'node:\n  site: from-data-dir\n');
  const print = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli(['config', 'print', ...args], cliEnv(dir, env));
    assert.equal(r.code, 0, r.stderr);
    return parse(r.stdout) as Printed;
  };
  const env = { CUPOLA_NODE_SITE: 'from-env', CUPOLA_API_RATE_LIMIT_PER_MINUTE: '222' };
  const [dataDirFile, fromFile, fromEnv, fromFlag] = await Promise.all([
    print(['--data-dir', data]),
    print(['--config', file]),
    print(['--config', file], env),
    print(['--config', file, '--set', 'node.site=from-flag', '--set', 'api.rateLimitPerMinute=333'], env),
  ]);
  assert.equal(dataDirFile.node.site, 'from-data-dir');
  assert.equal(dataDirFile.dataDir, data);
  assert.equal(dataDirFile.api.rateLimitPerMinute, 6000, 'default');
  assert.equal(dataDirFile.api.port, 8080, 'default');
  assert.equal(fromFile.node.site, 'from-file');
  assert.equal(fromFile.api.rateLimitPerMinute, 111);
  assert.equal(fromEnv.node.site, 'from-env');
  assert.equal(fromEnv.node.name, 'file-name', 'fields not overridden keep the file value');
  assert.equal(fromEnv.api.rateLimitPerMinute, 222, 'env strings are converted to the field type');
  assert.equal(fromFlag.node.site, 'from-flag');
  assert.equal(fromFlag.node.name, 'file-name');
  assert.equal(fromFlag.api.rateLimitPerMinute, 333);
});

test('config print never prints a secret: auth.adminPassword shows as [redacted] whatever its source', async (t) => {
  const dir = tempDir(t);
  const secret = 'sup3r-secret-passw0rd';
  const file = write(dir, 'secret.yaml', `auth:\n  adminPassword: ${secret}-file\n`);
  const [bad, ...runs] = await Promise.all([
    runCli(['config', 'print'], cliEnv(dir, { CUPOLA_AUTH_ADMIN_PASSWORD: 'tiny' })),
    runCli(['config', 'print'], cliEnv(dir, { CUPOLA_AUTH_ADMIN_PASSWORD: secret })),
    runCli(['config', 'print', '--config', file], cliEnv(dir)),
  ]);
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `the secret was printed:\n${r.stdout}`);
    assert.equal((parse(r.stdout) as Printed).auth.adminPassword, '[redacted]');
  }
  // An invalid secret is reported by field and rule, without echoing the value.
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^config error: auth\.adminPassword: expected at least 8 characters$/m);
  assert.ok(!bad.stderr.includes('tiny'));
});
