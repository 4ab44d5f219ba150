/**
 * A slave that misbehaves on request, for SlaveClient tests: a node:http server on loopback answering the three
 * routes a compressor reads (/cameras, /streams, /events) according to `mode`, and recording every request.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { Scope } from '../../helpers/core.js';

/** How the fake answers. */
export type FakeMode = 'healthy' | '500' | 'garbage-sse' | 'long-line' | 'silent-sse' | 'hang' | 'not-sse' | 'not-json';

/** One request as the fake saw it. */
export interface Hit {
  path: string;
  at: number;
  mode: FakeMode;
  lastEventId: string | undefined;
}

/** A running fake. */
export interface FakeSlave {
  url: string;
  mode: FakeMode;
  hits: Hit[];
  /** F1 paths its /streams lists as online. */
  f1: Set<string>;
  /** Bytes of the 10 MB line written before the client hung up, per long-line response. */
  longLineWritten: number[];
  /** Writes a raw chunk to every open healthy event stream. */
  send(chunk: string): void;
  /** Ends every open response (the slave "restarts"). */
  dropAll(): void;
}

/** The token the fake accepts. */
export const FAKE_TOKEN = 'cpt_0123456789ab_fake-secret-that-must-never-be-logged';

/** Starts the fake on 127.0.0.1; closed in `after`. */
export async function startFakeSlave(scope: Scope): Promise<FakeSlave> {
  const open = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const fake: FakeSlave = {
    url: '',
    mode: 'healthy',
    hits: [],
    f1: new Set(['cam-1']),
    longLineWritten: [],
    send: (chunk) => {
      for (const res of open) if ((res as { healthy?: boolean }).healthy) res.write(chunk);
    },
    dropAll: () => {
      for (const res of open) res.destroy();
    },
  };
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const mode = fake.mode;
    const lastEventId = req.headers['last-event-id'] as string | undefined;
    fake.hits.push({ path, at: performance.now(), mode, lastEventId });
    open.add(res);
    res.on('close', () => open.delete(res));
    if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) {
      return json(res, 401, { error: { code: 'invalid_token', message: 'the token is invalid, expired or revoked' } });
    }
    if (mode === 'hang') return;
    if (mode === '500') return json(res, 500, { error: { code: 'internal', message: 'internal error' } });
    if (path === '/api/v1/cameras') {
      if (mode === 'not-json') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops');
      const cameras = [{ id: 'cam-1', name: 'Cam 1', site: 'default', enabled: true }];
      return json(res, 200, { cameras });
    }
    if (path === '/api/v1/streams') {
      const publisher = { remote: '127.0.0.1:1', transport: 'tcp' };
      return json(res, 200, { streams: [...fake.f1].map((p) => ({ plane: 'f1', stats: { path: p, publisher } })) });
    }
    if (path !== '/api/v1/events') return json(res, 404, { error: { code: 'not_found', message: 'no route' } });
    if (mode === 'not-sse') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    if (mode === 'silent-sse' || mode === 'not-json') return;
    if (mode === 'healthy') {
      (res as { healthy?: boolean }).healthy = true;
      res.write('retry: 2000\n\n');
      const ping = setInterval(() => res.write(': ping\n\n'), 200);
      timers.add(ping);
      res.on('close', () => (clearInterval(ping), timers.delete(ping)));
      return;
    }
    if (mode === 'garbage-sse') {
      const spew = setInterval(() => {
        const bytes = Buffer.alloc(4096);
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
        res.write(bytes);
      }, 20);
      timers.add(spew);
      res.on('close', () => (clearInterval(spew), timers.delete(spew)));
      return;
    }
    // long-line: 10 MB without a newline, written as fast as the client takes it.
    const piece = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    const slot = fake.longLineWritten.push(0) - 1;
    const pump = () => {
      while (written < 10 * 1024 * 1024 && !res.destroyed) {
        written += piece.length;
        fake.longLineWritten[slot] = written;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
    };
    res.write('data: ');
    pump();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  fake.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  scope.after(async () => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });
  return fake;
}
