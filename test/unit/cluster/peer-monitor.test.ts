/** PeerMonitor over a fake fetch and clock: requests, states, events, reconfiguration, stop, no token anywhere. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerMonitor, type PeerChange, type PeerWatchConfig } from '../../../app/cluster/peer-monitor.js';
import type { EventMap } from '../../../app/defs/events.js';
import type { NodeInfo } from '../../../app/defs/node.js';
import { silentLogger } from '../../../app/log/logger.js';

const TOKEN_A = 'cpt_0123456789ab_slave-a-secret-00001';
const TOKEN_B = 'cpt_ba9876543210_comp-b-secret-000001';
const nodeDoc = (name: string, site = 'site-x'): NodeInfo => ({
  name,
  site,
  roles: ['slave'],
  version: '0.1.0',
  startedAt: '2025-01-01T00:00:00.000Z',
  uptimeS: 5,
  pid: 7,
  media: null,
  health: null,
});

type Answer = { status: number; body: unknown } | Error | 'hang';

function fixture(cfg: Partial<PeerWatchConfig> = {}) {
  const config: PeerWatchConfig = {
    slaves: [{ url: 'http://10.0.0.1:8080/', token: TOKEN_A }],
    compressors: [{ url: 'http://10.0.0.2:8080', token: TOKEN_B, name: 'comp-b' }],
    healthIntervalS: 2,
    peerDownAfterS: 4,
    ...cfg,
  };
  let clock = 1_000_000;
  const answers = new Map<string, Answer>();
  const requests: Array<{ url: string; auth: string | null }> = [];
  const events: Array<EventMap['peer.health']> = [];
  const changes: PeerChange[] = [];
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const auth = new Headers(init?.headers).get('authorization');
    requests.push({ url, auth });
    const answer = answers.get(new URL(url).host) ?? { status: 200, body: nodeDoc(new URL(url).host) };
    if (answer === 'hang') {
      return new Promise<Response>((_ok, fail) =>
        init?.signal?.addEventListener('abort', () => fail(init.signal?.reason as Error), { once: true }),
      );
    }
    if (answer instanceof Error) throw answer;
    clock += 5; // a 5 ms round trip
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as typeof fetch;
  const monitor = new PeerMonitor({
    config: () => config,
    bus: { emit: (_type, data) => events.push(data) },
    log: silentLogger(),
    fetch: fakeFetch,
    now: () => clock,
  });
  monitor.onChange((c) => changes.push(c));
  return {
    monitor,
    config,
    answers,
    requests,
    events,
    changes,
    advance: (ms: number) => (clock += ms),
  };
}

const refused = () =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });

test('peers are listed in config order, unknown until checked, and answer with their node document', async () => {
  const f = fixture();
  f.monitor.reconfigure();
  assert.deepEqual(
    f.monitor.list().map((p) => [p.kind, p.name, p.url, p.state]),
    [
      ['slave', '10.0.0.1:8080', 'http://10.0.0.1:8080', 'unknown'],
      ['compressor', 'comp-b', 'http://10.0.0.2:8080', 'unknown'],
    ],
  );
  await f.monitor.checkAll();
  assert.deepEqual(
    f.requests.sort((a, b) => a.url.localeCompare(b.url)),
    [
      { url: 'http://10.0.0.1:8080/api/v1/node', auth: `Bearer ${TOKEN_A}` },
      { url: 'http://10.0.0.2:8080/api/v1/node', auth: `Bearer ${TOKEN_B}` },
    ],
  );
  const slave = f.monitor.get('http://10.0.0.1:8080')!;
  assert.equal(slave.state, 'up');
  assert.equal(slave.name, '10.0.0.1:8080', "the node's own name (here its host)");
  assert.equal(slave.node?.site, 'site-x');
  assert.ok(slave.rttMs !== null && slave.rttMs >= 5, `rtt ${slave.rttMs}`); // both checks share the fake clock
  assert.equal(f.monitor.get('http://10.0.0.1:8080/', 'compressor'), undefined);
  assert.equal(f.monitor.get('http://10.0.0.2:8080/')?.kind, 'compressor');
  assert.deepEqual(f.events.map((e) => [e.kind, e.state, e.previous]).sort(), [
    ['compressor', 'up', 'unknown'],
    ['slave', 'up', 'unknown'],
  ]);
  assert.deepEqual(
    f.changes.map((c) => [c.peer.kind, c.previous, c.removed]),
    [
      ['slave', null, false],
      ['compressor', null, false],
      ['slave', 'unknown', false],
      ['compressor', 'unknown', false],
    ],
  );
});

test('refused → down at once; a timeout alone does not flap; errors never carry the token', async () => {
  const f = fixture({ compressors: [] });
  f.monitor.reconfigure();
  await f.monitor.checkAll();
  assert.equal(f.monitor.list()[0]?.state, 'up');

  f.answers.set('10.0.0.1:8080', new Error(`socket hang up for Bearer ${TOKEN_A}`));
  f.advance(2000);
  await f.monitor.checkAll();
  const p = f.monitor.list()[0]!;
  assert.equal(p.state, 'up', 'one failure 2 s after the last answer: still up');
  assert.equal(p.lastError, 'socket hang up for Bearer ***');

  f.answers.set('10.0.0.1:8080', refused());
  f.advance(100);
  await f.monitor.checkAll();
  assert.equal(f.monitor.list()[0]?.state, 'down');
  assert.match(f.monitor.list()[0]!.lastError!, /ECONNREFUSED/);
  assert.deepEqual(f.events.at(-1), {
    kind: 'slave',
    name: '10.0.0.1:8080',
    url: 'http://10.0.0.1:8080',
    state: 'down',
    previous: 'up',
    rttMs: 5,
    lastError: 'fetch failed (ECONNREFUSED)',
  });

  f.answers.delete('10.0.0.1:8080');
  f.advance(2000);
  await f.monitor.checkAll();
  assert.equal(f.monitor.list()[0]?.state, 'up');
  assert.equal(f.events.length, 3);
  assert.ok(!JSON.stringify([f.monitor.list(), f.events, f.changes]).includes(TOKEN_A.slice(17)));
});

test('a wrong token, a non-JSON page and a foreign document are failures that say why', async () => {
  const f = fixture({ compressors: [] });
  f.monitor.reconfigure();
  const host = '10.0.0.1:8080';
  const cases: Array<[Answer, RegExp]> = [
    [{ status: 401, body: { error: { code: 'unauthorized', message: 'bad token' } } }, /^HTTP 401 unauthorized$/],
    [{ status: 200, body: { hello: 'world' } }, /^not a node document$/],
    [{ status: 502, body: '<html>' }, /^HTTP 502$/],
  ];
  for (const [answer, error] of cases) {
    f.answers.set(host, answer);
    await f.monitor.checkAll();
    assert.equal(f.monitor.list()[0]?.state, 'down');
    assert.match(f.monitor.list()[0]!.lastError!, error);
  }
});

test('a check that does not answer gives up within the interval', async () => {
  const f = fixture({ compressors: [], healthIntervalS: 1 });
  f.monitor.reconfigure();
  f.answers.set('10.0.0.1:8080', 'hang');
  const t0 = performance.now();
  await f.monitor.checkAll();
  const took = performance.now() - t0;
  assert.ok(took >= 700 && took < 1000, `gave up after ${took.toFixed(0)} ms`);
  assert.equal(f.monitor.list()[0]?.lastError, 'no answer within 750 ms');
});

test('reconfigure: peers removed, added and renamed; state kept for those that stay', async () => {
  const f = fixture();
  f.monitor.reconfigure();
  await f.monitor.checkAll();
  f.config.slaves = [
    { url: 'http://10.0.0.1:8080', token: TOKEN_A, name: 'renamed' },
    { url: 'http://10.0.0.3:8080', token: TOKEN_A },
  ];
  f.config.compressors = [];
  f.changes.length = 0;
  f.monitor.reconfigure();
  assert.deepEqual(
    f.monitor.list().map((p) => [p.name, p.state]),
    [
      ['renamed', 'up'],
      ['10.0.0.3:8080', 'unknown'],
    ],
  );
  assert.deepEqual(
    f.changes.map((c) => [c.peer.name, c.removed]),
    [
      ['comp-b', true],
      ['10.0.0.3:8080', false],
    ],
  );
});

test('start checks at once and on the cadence; stop aborts the check in flight and leaves no timer', async () => {
  const f = fixture({ compressors: [], healthIntervalS: 1 });
  const monitor = new PeerMonitor({
    config: () => f.config,
    bus: { emit: () => {} },
    log: silentLogger(),
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      f.requests.push({ url: String(input), auth: null });
      if (f.requests.length >= 2) {
        return new Promise<Response>((_ok, fail) =>
          init?.signal?.addEventListener('abort', () => fail(init.signal?.reason as Error), { once: true }),
        );
      }
      return new Response(JSON.stringify(nodeDoc('a')), { status: 200 });
    }) as typeof fetch,
  });
  await monitor.start();
  await new Promise((ok) => setTimeout(ok, 50));
  assert.equal(f.requests.length, 1, 'the first check at once');
  assert.equal(monitor.list()[0]?.state, 'up');
  await new Promise((ok) => setTimeout(ok, 1100));
  assert.equal(f.requests.length, 2, 'the second one interval later (and hanging)');
  const t0 = performance.now();
  await monitor.stop();
  assert.ok(performance.now() - t0 < 100, 'stop did not wait for the timeout');
  assert.equal(monitor.list()[0]?.state, 'up', 'an aborted check says nothing about the peer');
  await new Promise((ok) => setTimeout(ok, 1200));
  assert.equal(f.requests.length, 2, 'no check after stop');
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout');
  assert.equal(timers.length, 0, `timers left: ${timers.length}`);
});
