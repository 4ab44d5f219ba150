/**
 * The demo topology on one host, as it would run on several machines: one slave per site, a compressor serving every
 * slave, a master relaying and watching them all, and synthetic cameras pushing to the slaves. Every process is a
 * child of the demo's Supervisors; `stop()` ends them all and removes the temp data dirs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { generatePassword } from '../api/auth/password.js';
import { EventBus } from '../events/bus.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { ChildSpec } from '../supervisor/types.js';
import { cameraChildSpec, cameraTools } from './camera.js';
import { measureCores } from './cpu.js';
import { NodeApi } from './node-api.js';
import { childName, defaultServeCommand, DEMO_HOST, nodeChildSpec, prepareNode } from './nodes.js';
import type { NodeSpec, ServeCommand } from './nodes.js';
import { planDemo, type CameraPlan, type DemoPlan } from './plan.js';
import { demoPorts, type NodePorts, type PortWishes } from './ports.js';
import { compressorFileConfig, compressorSlaves, masterFileConfig, type SlaveRef } from './sections.js';
import { startSupervisors } from './supervisors.js';
import { untilReady, waitStreams } from './wait.js';

/** Options of the demo. */
export interface DemoOptions extends PortWishes {
  cameras: number;
  sites: number;
  /** How to run `cupola serve` (default: this build's CLI). */
  serve?: ServeCommand;
  /** Delay before a node that died is started again (the first backoff step of the nodes' Supervisor; 1 s). */
  nodeRestartDelayMs?: number;
  /** Video bitrate of the cameras (default 800 kbit/s; testsrc2 at 640x360 cannot use more than ~3000). */
  cameraKbps?: number;
  /** Parent of the demo's temp dir (default: the OS temp dir). */
  tmpDir?: string;
  /** Status lines for the operator. */
  say?: (line: string) => void;
  /** The Supervisors' log (default: warnings and errors to stderr). */
  log?: Logger;
}

/** A node as the demo started it. */
export interface DemoNode {
  name: string;
  role: NodeSpec['role'];
  site: string;
  url: string;
  ports: NodePorts;
  dataDir: string;
}

/** What a started demo offers its operator. */
export interface DemoInfo {
  /** The master's UI. */
  dashboard: string;
  /** The admin password of every node. */
  adminPassword: string;
  /** An API token of the master for players: RTMP `?token=`, RTSP password (user: the token's id). */
  viewerToken: string;
  nodes: DemoNode[];
  cameras: CameraPlan[];
  master: DemoNode;
  /** The temp dir holding every node's data dir; removed by stop(). */
  root: string;
}

const START_TIMEOUT_MS = 30_000;

/** The demo topology; see app/demo/README.md. */
export class Demo {
  private readonly plan: DemoPlan;
  private readonly bus = new EventBus(100);
  private readonly specs = new Map<string, { node: NodeSpec; child: ChildSpec; api: NodeApi }>();
  /** Nodes whose data dir has been prepared. */
  private readonly prepared = new Set<string>();
  /** Aborted by stop(): a start() under way gives up at its next step. */
  private readonly abort = new AbortController();
  private nodes: Supervisor | null = null;
  private cameras: Supervisor | null = null;
  private root: string | null = null;
  private starting: Promise<DemoInfo> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly opts: DemoOptions) {
    this.plan = planDemo(opts.cameras, opts.sites);
  }

  /** Starts every node and camera; resolves once the nodes answer and are configured (streams come a little later). */
  start(): Promise<DemoInfo> {
    this.starting ??= this.startAll();
    return this.starting;
  }

  /** The temp dir holding the nodes' data dirs (null before start). */
  get dataRoot(): string | null {
    return this.root;
  }

  private async startAll(): Promise<DemoInfo> {
    const { plan, opts } = this;
    const log = opts.log ?? pino({ level: 'warn', base: null }, pino.destination({ fd: 2, sync: true }));
    const root = mkdtempSync(join(opts.tmpDir ?? tmpdir(), 'cupola-demo-'));
    this.root = root;
    const password = generatePassword();
    const tools = cameraTools();
    if (!tools.overlay) this.say('this ffmpeg has no drawtext filter: the cameras show no name and clock');
    const { nodes, cameras } = await startSupervisors(root, log, this.bus, opts.nodeRestartDelayMs ?? 1000);
    this.nodes = nodes;
    this.cameras = cameras;
    this.bus.on('child.exited', (e) => {
      if (this.stopping || !e.data.name.startsWith('node:')) return;
      this.say(`${e.data.name.slice(5)} exited (${e.data.signal ?? `code ${e.data.code}`}); it will be started again`);
    });
    const slaves = plan.sites.map((s) => s.site);
    const ports = await demoPorts(DEMO_HOST, { master: plan.master, slaves, compressor: plan.compressor }, opts);
    const serve = opts.serve ?? defaultServeCommand();
    const define = (name: string, role: NodeSpec['role'], site: string, config: Record<string, unknown> = {}) => {
      const node: NodeSpec = { name, role, site, dataDir: join(root, name), ports: ports.get(name)!, config };
      const api = new NodeApi(`http://${DEMO_HOST}:${node.ports.api}`, password);
      this.specs.set(name, { node, child: nodeChildSpec(node, serve, password), api });
    };
    for (const site of slaves) define(site, 'slave', site);
    define(plan.compressor, 'compressor', 'default', compressorFileConfig());

    // Slaves and the compressor start together; the master once it can be given every peer's token.
    await Promise.all([...slaves, plan.compressor].map((name) => this.launch(name)));
    const grants = new Map<string, string>();
    const forCompressor: SlaveRef[] = [];
    const forMaster: SlaveRef[] = [];
    for (const s of plan.sites) {
      const api = this.api(s.site);
      for (const cam of s.cameras) grants.set(cam.id, (await api.createCamera(cam.id, cam.id)).publishUrl);
      const ref = { name: s.site, site: s.site, url: api.url };
      forCompressor.push({ ...ref, token: await api.createToken('demo-compressor') });
      forMaster.push({ ...ref, token: await api.createToken('demo-master') });
    }
    const compressor = this.api(plan.compressor);
    const patched = await compressor.patchConfig(compressorSlaves(forCompressor));
    if (patched.restartRequired.length > 0) await this.restartNode(plan.compressor);
    const token = await compressor.createToken('demo-master');
    define(
      plan.master,
      'master',
      'default',
      masterFileConfig(forMaster, { name: plan.compressor, url: compressor.url, token }),
    );
    this.check();
    const master = this.launch(plan.master);
    plan.cameras.forEach((cam, i) =>
      cameras.spawn(cameraChildSpec(cam, i, grants.get(cam.id)!, tools, opts.cameraKbps ?? 800)),
    );
    await master;
    const viewerToken = await this.api(plan.master).createToken('demo-viewer');
    return {
      dashboard: `${this.api(plan.master).url}/`,
      adminPassword: password,
      viewerToken,
      nodes: [...this.specs.keys()].map((name) => this.view(name)),
      cameras: plan.cameras,
      master: this.view(plan.master),
      root,
    };
  }

  /**
   * Waits until every camera is online on its slave as F1 and, transcoded, as F2, and the master relays both;
   * resolves with the ms waited.
   */
  waitStreams(timeoutMs = 60_000, signal?: AbortSignal): Promise<number> {
    const slaves = this.plan.sites.map((s) => ({
      site: s.site,
      api: this.api(s.site),
      cameras: s.cameras.map((c) => c.id),
    }));
    return waitStreams(slaves, this.api(this.plan.master), timeoutMs, this.until(signal));
  }

  /** Cores used over `seconds` by each node's process tree and by the cameras together. */
  async measureCpu(seconds: number, signal?: AbortSignal): Promise<Map<string, number>> {
    const roots = () => {
      const out = new Map<string, number>();
      for (const c of [...(this.nodes?.list() ?? []), ...(this.cameras?.list() ?? [])])
        if (c.pid !== null) out.set(c.name, c.pid);
      return out;
    };
    const per = await measureCores(roots, seconds, this.until(signal));
    const out = new Map<string, number>();
    for (const [name, cores] of per) {
      const key = name.startsWith('camera:') ? 'cameras' : name.slice('node:'.length);
      out.set(key, (out.get(key) ?? 0) + cores);
    }
    return out;
  }

  /** The pid of a node's process (null while it is down). */
  nodePid(name: string): number | null {
    return this.nodes?.get(childName(name))?.status().pid ?? null;
  }

  /** The last output lines of a node (its log lines) or a camera (`camera:<site>/<id>`). */
  logs(name: string): string[] {
    return (this.nodes?.get(childName(name)) ?? this.cameras?.get(name))?.logs() ?? [];
  }

  /** Starts a node again now (cancelling a pending automatic restart); resolves once it answers /health. */
  async restartNode(name: string): Promise<void> {
    if (!this.nodes || this.abort.signal.aborted) throw new Error('the demo is not running');
    await this.nodes.remove(childName(name));
    await this.launch(name);
  }

  /**
   * Stops cameras, master and compressor, then the slaves; removes the temp dir. Safe to call twice, and during
   * start() (which then fails with "the demo was stopped").
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      await this.starting?.catch(() => {});
      const { nodes, cameras, plan } = this;
      const first = [plan.master, plan.compressor].map((n) => nodes?.remove(childName(n)));
      await Promise.all([cameras?.stop(), ...first]);
      await nodes?.stop();
      if (this.root) rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    })();
    return this.stopping;
  }

  private api(name: string): NodeApi {
    const s = this.specs.get(name);
    if (!s) throw new Error(`no demo node ${name}`);
    return s.api;
  }

  private view(name: string): DemoNode {
    const { node, api } = this.specs.get(name)!;
    return { name, role: node.role, site: node.site, url: api.url, ports: node.ports, dataDir: node.dataDir };
  }

  /** Spawns a node (its data dir prepared the first time) and waits until /health answers. */
  private async launch(name: string): Promise<void> {
    const s = this.specs.get(name)!;
    const nodes = this.nodes!;
    if (!nodes.get(childName(name))) {
      if (!this.prepared.has(name)) prepareNode(s.node); // a restart keeps the config file, changes included
      this.prepared.add(name);
      this.check();
      nodes.spawn(s.child);
    }
    await untilReady(s.api, nodes.get(childName(name))!, name, START_TIMEOUT_MS, this.abort.signal);
    this.check();
  }

  /** Aborted by stop() or by `signal`. */
  private until(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.abort.signal]) : this.abort.signal;
  }

  /** Throws once stop() was called (start() gives up). */
  private check(): void {
    if (this.abort.signal.aborted) throw new Error('the demo was stopped');
  }

  private say(line: string): void {
    this.opts.say?.(line);
  }
}
