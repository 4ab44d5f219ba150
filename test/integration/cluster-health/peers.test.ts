/**
 * A master watching a slave (a real `cupola serve` process) and a compressor (in-process): GET /api/v1/peers shows
 * both up with their node documents; kill -9 of the slave shows it down within 5 s; started again on the same port
 * and data dir it is shown up without touching the master. The `peer.health` events arrive over SSE.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { before, test } from 'node:test';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { PeerHealth, SlavePeerState } from '../../../app/defs/peer.js';
import {
  ADMIN_PASSWORD,
  checkBuild,
  cliEnv,
  freePort,
  login,
  spawnServe,
  startCore,
  tempDir,
  type ServeProcess,
} from '../../helpers/core.js';
import { api, openSse, until } from '../../helpers/http.js';

before(checkBuild);

interface PeersBody {
  peers: PeerHealth[];
  links: SlavePeerState[];
}

async function newToken(url: string, admin: string, name: string): Promise<string> {
  const res = await api(url, '/api/v1/tokens', { token: admin, body: { name } });
  assert.equal(res.status, 201, res.text);
  return (res.json as { secret: string }).secret;
}

test('the master shows its slave and compressor up; kill -9 of the slave is down within 5 s, up again after restart', async (t) => {
  // One after hook, registered first (hooks run in order): the slave process goes before its directories.
  const dataDir = tempDir(null, 'cupola-slave-');
  const home = tempDir(null, 'cupola-home-');
  let slave: ServeProcess | null = null;
  t.after(async () => {
    if (slave && slave.child.exitCode === null && slave.child.signalCode === null) {
      slave.child.kill('SIGKILL');
      await slave.exited;
    }
    for (const dir of [dataDir, home]) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  const port = await freePort();
  const slaveArgs = ['--data-dir', dataDir, '--role', 'slave', '--name', 'slave-a'];
  slaveArgs.push('--set', `api.port=${port}`, '--set', `auth.adminPassword=${ADMIN_PASSWORD}`);
  slave = spawnServe(t, slaveArgs, cliEnv(home));
  const slaveUrl = await slave.ready(30_000);
  const slaveToken = await newToken(slaveUrl, (await login(slaveUrl)).accessToken, 'master');

  const comp = await startCore(t, { flags: { 'node.role': 'compressor', 'node.name': 'comp-a' } });
  const compToken = await newToken(comp.url, (await login(comp.url)).accessToken, 'master');

  const master = await startCore(t, {
    flags: { 'node.role': 'master', 'node.name': 'master-a' },
    fileValues: {
      master: {
        slaves: [{ url: slaveUrl, token: slaveToken, name: 'slave-a' }],
        compressors: [{ url: comp.url, token: compToken }],
      },
    },
  });
  const admin = (await login(master.url)).accessToken;
  const sse = await openSse(master.url, '/api/v1/events?lastEventId=0', { authorization: `Bearer ${admin}` });
  t.after(() => sse.close());
  const peers = async () => {
    const res = await api(master.url, '/api/v1/peers', { token: admin });
    assert.equal(res.status, 200, res.text);
    return res.json as PeersBody;
  };
  const slaveView = async () => (await peers()).peers.find((p) => p.kind === 'slave')!;

  // Both up, with CPU figures (the peers' samplers need a second of samples).
  const up = await until(
    async () => {
      const body = await peers();
      const ready = body.peers.every((p) => p.state === 'up' && p.node?.health?.machine.cpuPercent !== null);
      return body.peers.length === 2 && ready ? body : null;
    },
    15_000,
    'both peers up with CPU figures',
  );
  assert.deepEqual(up.links, [], 'a master without the compressor role has no slave links');
  const [s, c] = up.peers as [PeerHealth, PeerHealth];
  assert.deepEqual([s.kind, s.name, s.url], ['slave', 'slave-a', slaveUrl]);
  assert.deepEqual([c.kind, c.name, c.url], ['compressor', 'comp-a', comp.url], "the compressor's own name");
  const own = (await api(master.url, '/api/v1/node', { token: admin })).json as NodeInfo;
  for (const p of [s, c]) {
    const node = p.node!;
    assert.equal(node.version, own.version);
    assert.ok(node.uptimeS >= 0 && node.pid > 0);
    assert.ok(p.rttMs !== null && p.rttMs < 1000, `rtt ${p.rttMs} ms`);
    assert.ok(p.lastSeen && Date.now() - Date.parse(p.lastSeen) < 5000);
    const h = node.health!;
    assert.ok(h.machine.cpuPercent! >= 0 && h.machine.cpuPercent! <= 100);
    assert.ok(h.machine.memTotalBytes > 0 && h.process.rssBytes > 0);
  }
  assert.deepEqual(s.node!.roles, ['slave']);
  assert.deepEqual(s.node!.health!.streams, { f1: 0, f2: 0 });
  assert.equal(s.node!.health!.jobs, null);
  assert.ok(s.node!.health!.children.count >= 1, 'the media plane worker');
  assert.deepEqual(c.node!.roles, ['compressor']);
  assert.deepEqual(c.node!.health!.jobs, { total: 0, running: 0, waiting: 0 });
  assert.equal(c.node!.health!.streams, null);
  assert.ok(own.health && own.health.process.rssBytes > 0, "the master's own health document");
  t.diagnostic(`rtt: slave ${s.rttMs} ms, compressor ${c.rttMs} ms; slave CPU ${s.node!.health!.machine.cpuPercent} %`);
  assert.ok(!JSON.stringify(up).includes(slaveToken.slice(17)) && !JSON.stringify(up).includes(compToken.slice(17)));

  // The compressor serves the route too: its links, and no peers of its own.
  assert.deepEqual((await api(comp.url, '/api/v1/peers', { token: compToken })).json, { peers: [], links: [] });
  const metrics = (await api(master.url, '/metrics', { token: admin })).text;
  assert.match(metrics, /^cupola_peer_up\{kind="slave",name="slave-a",url="[^"]+"\} 1$/m);
  assert.match(metrics, /^cupola_peer_rtt_seconds\{kind="compressor",name="comp-a",url="[^"]+"\} [\d.e-]+$/m);
  assert.match(metrics, /^cupola_node_cpu_percent [\d.]+$/m);

  // kill -9: the master shows the slave down within 5 s.
  const killedAt = performance.now();
  slave.child.kill('SIGKILL');
  await until(async () => (await slaveView()).state === 'down', 8_000, 'the slave shown down');
  const downMs = performance.now() - killedAt;
  const down = await slaveView();
  t.diagnostic(`down ${downMs.toFixed(0)} ms after kill -9 (${down.lastError})`);
  assert.ok(downMs < 5000, `the slave was shown down ${downMs.toFixed(0)} ms after kill -9`);
  assert.ok(down.node && down.lastSeen, 'the last node document and last seen stay');
  await slave.exited;

  // Started again on the same port and data dir: up again, the master untouched.
  slave = spawnServe(t, slaveArgs, cliEnv(home));
  await slave.ready(30_000);
  const readyAt = performance.now();
  await until(async () => (await slaveView()).state === 'up', 10_000, 'the slave shown up again');
  const upMs = performance.now() - readyAt;
  const again = await slaveView();
  t.diagnostic(`up ${upMs.toFixed(0)} ms after the restarted slave was ready (rtt ${again.rttMs} ms)`);
  assert.notEqual(again.node!.pid, s.node!.pid, 'a new process');
  assert.ok(upMs < 5000);

  // The events over SSE: each peer up, the slave down, the slave up again.
  await sse.waitFor(
    (st) => st.frames.filter((f) => f.event === 'peer.health').length >= 4,
    5000,
    'four peer.health events',
  );
  const events = sse.frames
    .filter((f) => f.event === 'peer.health')
    .map((f) => JSON.parse(f.data) as { data: { kind: string; state: string; previous: string } })
    .map((e) => [e.data.kind, e.data.previous, e.data.state].join(' '));
  assert.deepEqual(events.filter((e) => e.startsWith('slave')).slice(-3), [
    'slave unknown up',
    'slave up down',
    'slave down up',
  ]);
  assert.ok(events.includes('compressor unknown up'), events.join(', '));

  // A config change applies live: the compressor is no longer watched, the slave keeps its state.
  const patch = await api(master.url, '/api/v1/config', {
    method: 'PATCH',
    token: admin,
    body: { master: { compressors: [] } },
  });
  assert.equal(patch.status, 200, patch.text);
  const after = await peers();
  assert.deepEqual(
    after.peers.map((p) => [p.kind, p.state, p.since]),
    [['slave', 'up', again.since]],
  );
});
