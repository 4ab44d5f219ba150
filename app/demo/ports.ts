/** Ports for the demo's nodes: the usual ones for the master when they are free, free ones for everything else. */
import { createServer } from 'node:net';

/** The ports one node listens on (media ports unused by a compressor). */
export interface NodePorts {
  api: number;
  rtmp: number;
  f1: number;
  f2: number;
}

/** Binds `port` (0: any) on `host` and closes again; resolves with the port, or null when it is taken. */
function probe(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host, port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : null;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * Hands out ports on `host`, never the same one twice. A port found free here can still be taken by someone else
 * before the node binds it; the node then fails to start with exit code 3 and the demo says which port.
 */
export class PortPicker {
  private readonly given = new Set<number>();

  constructor(private readonly host: string) {}

  /** `preferred` when it is free (and not given out yet), else any free port. */
  async pick(preferred = 0): Promise<number> {
    if (preferred > 0 && !this.given.has(preferred) && (await probe(this.host, preferred)) !== null) {
      this.given.add(preferred);
      return preferred;
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await probe(this.host, 0);
      if (port !== null && !this.given.has(port)) {
        this.given.add(port);
        return port;
      }
    }
    throw new Error(`no free port on ${this.host}`);
  }

  /** `port` exactly; throws when it is taken. */
  async exact(port: number, what: string): Promise<number> {
    if (this.given.has(port) || (await probe(this.host, port)) === null)
      throw new Error(`${what}: port ${port} on ${this.host} is already in use`);
    this.given.add(port);
    return port;
  }

  /** Four ports; `preferred` (api, rtmp, f1, f2) are used when free; `api` given as is. */
  async node(preferred: Partial<NodePorts> = {}): Promise<NodePorts> {
    return {
      api: preferred.api ?? (await this.pick()),
      rtmp: await this.pick(preferred.rtmp),
      f1: await this.pick(preferred.f1),
      f2: await this.pick(preferred.f2),
    };
  }
}

/** Which ports the demo should try for its dashboard and the master's media. */
export interface PortWishes {
  /** The dashboard (master API): undefined = 8080 when free, else any; 0 = any free; N = exactly N. */
  port?: number;
  /** The master's media on 1935 / 8554 / 8555 when free (default true). */
  usualMediaPorts?: boolean;
}

/**
 * Ports of every node: the master's first (so that it gets the usual ones), then the slaves', then the
 * compressor's API (it serves no media: its media ports stay 0).
 */
export async function demoPorts(
  host: string,
  names: { master: string; slaves: string[]; compressor: string },
  wishes: PortWishes,
): Promise<Map<string, NodePorts>> {
  const picker = new PortPicker(host);
  const out = new Map<string, NodePorts>();
  const { port } = wishes;
  const api =
    port === undefined ? await picker.pick(8080) : port === 0 ? await picker.pick() : await picker.exact(port, 'api');
  const usual = wishes.usualMediaPorts !== false ? { rtmp: 1935, f1: 8554, f2: 8555 } : {};
  out.set(names.master, await picker.node({ ...usual, api }));
  for (const slave of names.slaves) out.set(slave, await picker.node());
  out.set(names.compressor, { api: await picker.pick(), rtmp: 0, f1: 0, f2: 0 });
  return out;
}
