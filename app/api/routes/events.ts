/** GET /api/v1/events: the event bus as Server-Sent Events, with Last-Event-ID resume and heartbeats. */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { BusEvent } from '../../defs/events.js';
import type { EventBus } from '../../events/bus.js';

/** A client further behind than this many bytes is disconnected instead of buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** Open SSE connections, so that stop() can end them and metrics can count them. */
export class SseHub {
  readonly clients = new Set<ServerResponse>();

  /** Ends every connection. */
  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function frame(e: BusEvent): string {
  const id = e.id ? `id: ${e.id}\n` : '';
  return `${id}event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

function parseLastId(header: unknown, query: unknown): number | null {
  const raw = typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return null;
  return Number(raw);
}

/** Registers the SSE route. */
export function eventRoutes(deps: { bus: EventBus; hub: SseHub; heartbeatMs: number }): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/events',
      { schema: { tags: ['events'], summary: 'Server-Sent Events of the node (resume with Last-Event-ID)' } },
      (req, reply) => {
        const { bus, hub } = deps;
        const lastId = parseLastId(req.headers['last-event-id'], (req.query as Record<string, unknown>).lastEventId);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write('retry: 2000\n\n');
        const send = (chunk: string) => {
          if (res.writableLength > MAX_BUFFERED_BYTES) {
            req.log.warn('SSE client too slow; disconnecting it');
            res.destroy();
            return;
          }
          res.write(chunk);
        };
        if (lastId !== null) {
          const replay = bus.since(lastId);
          if (replay.ok) for (const e of replay.events) send(frame(e));
          else {
            // Tell the client it missed events that are gone, so it can reload its state instead of trusting the feed.
            send(`event: reset\ndata: ${JSON.stringify({ oldestId: replay.oldestId, lastEventId: lastId })}\n\n`);
            const rest = bus.since(replay.oldestId - 1);
            if (rest.ok) for (const e of rest.events) send(frame(e));
          }
        }
        const unsubscribe = bus.onAny((e) => send(frame(e)));
        const heartbeat = setInterval(() => send(`: ping ${Date.now()}\n\n`), deps.heartbeatMs);
        hub.clients.add(res);
        res.on('close', () => {
          clearInterval(heartbeat);
          unsubscribe();
          hub.clients.delete(res);
        });
      },
    );
  };
}
