/** The tray's health probe against a real loopback HTTP server. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { probeHealth, trayTooltip, worst } from '../../../main/health.js';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('ok, degraded and down readings', async (t) => {
  let mode: 'ok' | 'starting' | '500' | 'slow' | 'hang' = 'ok';
  const { url, server } = await serve((req, res) => {
    assert.equal(req.url, '/health');
    if (mode === 'hang') return; // never answers
    const send = () => {
      res.writeHead(mode === '500' ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: mode === 'starting' ? 'starting' : 'ok' }));
    };
    if (mode === 'slow') setTimeout(send, 120);
    else send();
  });
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });

  assert.deepEqual(await probeHealth(url), { status: 'ok', detail: 'core healthy' });
  mode = 'starting';
  assert.deepEqual(await probeHealth(url), { status: 'degraded', detail: 'health status starting' });
  mode = '500';
  assert.deepEqual(await probeHealth(url), { status: 'degraded', detail: 'health answered HTTP 500' });
  mode = 'slow';
  assert.equal((await probeHealth(url, 3000, 50)).status, 'degraded');
  mode = 'hang';
  assert.deepEqual(await probeHealth(url, 100), { status: 'down', detail: 'no answer in 100 ms' });
});

test('an unreachable core is down', async () => {
  const { url, server } = await serve(() => {});
  await new Promise((r) => server.close(r));
  assert.deepEqual(await probeHealth(url, 1000), { status: 'down', detail: 'core unreachable' });
});

test('the worse reading wins, and the tooltip names it', () => {
  const ok = { status: 'ok', detail: 'core healthy' } as const;
  const degraded = { status: 'degraded', detail: 'cam 3 offline' } as const;
  const down = { status: 'down', detail: 'core unreachable' } as const;
  assert.equal(worst(ok, null), ok);
  assert.equal(worst(ok, degraded), degraded);
  assert.equal(worst(down, degraded), down);
  assert.equal(worst(degraded, { status: 'degraded', detail: 'other' }), degraded);
  assert.equal(
    trayTooltip(degraded, 'http://127.0.0.1:8080'),
    'Cupola — degraded: cam 3 offline\nhttp://127.0.0.1:8080',
  );
});
