/**
 * The master role: follows each slave of `master.slaves` (a SlaveClient of app/cluster: event stream, listings,
 * backoff) and keeps the media plane's relay table in step with what is online there: every camera's F1 is relayed
 * into `<site>/<camera>` (served on F1 RTSP and over RTMP), every F2 being published into `<site>/<camera>` on F2.
 * Relays are pullers inside the media-plane worker, not processes; a slave that goes away keeps its relays, which
 * retry with backoff and recover by themselves when it is back.
 */
import type { Config } from '../config/schema.js';
import { SlaveClient, type SlaveNode } from '../cluster/slave-client.js';
import type { SlavePeerState } from '../defs/peer.js';
import type { Logger } from '../log/logger.js';
import type { RelayEntry, RelayStatus } from '../media/worker/protocol.js';

/** Where relays go: the node's media plane. */
export interface RelayPlane {
  setRelays(relays: RelayEntry[]): void;
  /** The relays' pullers as the plane last reported them. */
  relayStatus(): RelayStatus[];
}

/** What the role is built from. */
export interface MasterDeps {
  config: () => Config;
  plane: RelayPlane;
  log: Logger;
}

/** One relayed camera as the API shows it (no credentials). */
export interface MasterRelay {
  slave: string;
  site: string;
  camera: string;
  plane: 'f1' | 'f2';
  /** The path on this master (`<site>/<camera>`). */
  path: string;
  /** Its puller in the media plane: connecting, playing, backoff (null until the plane's first report). */
  state: RelayStatus['state'] | null;
  since: string | null;
  reconnects: number;
  lastError: string | null;
}

interface Link {
  slave: Config['master']['slaves'][number];
  name: string;
  client: SlaveClient;
  node: SlaveNode | null;
  asking: boolean;
}

/** How often the relay table is recomputed (F2 has no event of its own in SlaveClient) and a missing node asked. */
const TICK_MS = 1000;
/** A token's id is the RTSP Digest user name on the slave (see app/compressor/README.md). */
const tokenUser = (token: string): string => token.slice(4, 16);

/** See the file comment. */
export class MasterRole {
  private followed: Link[] = [];
  private timer: NodeJS.Timeout | null = null;
  private current: RelayEntry[] = [];
  private views: Array<Pick<MasterRelay, 'slave' | 'site' | 'camera' | 'plane' | 'path'>> = [];

  constructor(private readonly deps: MasterDeps) {}

  /** Starts following the slaves; returns at once (a slave that is down must not hold up the master). */
  async start(): Promise<void> {
    this.followed = this.deps.config().master.slaves.map((slave) => this.link(slave));
    await Promise.all(this.followed.map((l) => l.client.start()));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  /** Stops following; the plane's relays are removed. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.followed.map((l) => l.client.stop()));
    this.followed = [];
    this.publish([]);
  }

  /** The relays wanted now, with their pullers' state. */
  relays(): MasterRelay[] {
    const status = new Map(this.deps.plane.relayStatus().map((r) => [`${r.plane} ${r.path}`, r]));
    return this.views.map((v) => {
      const r = status.get(`${v.plane} ${v.path}`);
      return {
        ...v,
        state: r?.state ?? null,
        since: r?.since ?? null,
        reconnects: r?.reconnects ?? 0,
        lastError: r?.lastError ?? null,
      };
    });
  }

  /** The links to the slaves (the same view a compressor gives of its own). */
  links(): SlavePeerState[] {
    return this.followed.map((l) => l.client.state);
  }

  private link(slave: Link['slave']): Link {
    const name = slave.name ?? new URL(slave.url).host;
    const client = new SlaveClient(
      { name, url: slave.url, token: slave.token },
      { log: this.deps.log.child({ slave: name }) },
    );
    const link: Link = { slave, name, client, node: null, asking: false };
    // A slave that restarts may come back with other ports: ask again once its link is up.
    client.on('state', (s) => {
      if (s.state !== 'online') return;
      link.node = null;
      this.ask(link);
    });
    client.on('f1-online', () => this.tick());
    client.on('f1-offline', () => this.tick());
    return link;
  }

  private ask(link: Link): void {
    if (link.asking) return;
    link.asking = true;
    void link.client.node().then((node) => {
      link.asking = false;
      if (node?.ports) link.node = node;
      this.tick();
    });
  }

  private tick(): void {
    const entries: RelayEntry[] = [];
    const views: typeof this.views = [];
    for (const link of this.followed) {
      if (!link.node?.ports) {
        if (link.client.state.state === 'online') this.ask(link);
        continue;
      }
      const site = link.slave.site ?? link.node.site ?? link.name;
      const host = new URL(link.slave.url).hostname;
      const { token } = link.slave;
      for (const plane of ['f1', 'f2'] as const) {
        const port = plane === 'f1' ? link.node.ports.f1Port : link.node.ports.f2Port;
        const cameras = plane === 'f1' ? link.client.f1Online() : link.client.f2Online();
        for (const camera of cameras) {
          const path = `${site}/${camera}`;
          entries.push({
            plane,
            path,
            url: `rtsp://${host}:${port}/${camera}`,
            user: tokenUser(token),
            password: token,
          });
          views.push({ slave: link.name, site, camera, plane, path });
        }
      }
    }
    this.views = views;
    this.publish(entries);
  }

  private publish(entries: RelayEntry[]): void {
    // One order for one set (a camera back online is listed last by its slave): then any field that differs counts.
    const key = (e: RelayEntry) => `${e.plane} ${e.path}`;
    entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    if (JSON.stringify(entries) === JSON.stringify(this.current)) return;
    this.current = entries;
    this.deps.plane.setRelays(entries);
  }
}
