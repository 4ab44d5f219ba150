/**
 * The demo's nodes as separate processes, the way they would run on separate machines: `cupola serve` with its own
 * role, data dir and ports, spawned by the demo's Supervisor. Each node's process leads its own process group and
 * spawns its own children (media plane, ffmpeg jobs) through its own Supervisor.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ChildSpec } from '../supervisor/types.js';
import type { NodePorts } from './ports.js';

/** How to run `cupola serve`: a command and the arguments before `serve`. */
export interface ServeCommand {
  command: string;
  args: string[];
}

/** This build's CLI: `cli.js` when built, `cli.ts` under tsx (tests run the sources). */
export function defaultServeCommand(): ServeCommand {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const cli = join(dirname(here), '..', ts ? 'cli.ts' : 'cli.js');
  return { command: process.execPath, args: ts ? ['--import', 'tsx', cli] : [cli] };
}

/** One node of the demo. */
export interface NodeSpec {
  /** Node name, also the name of its supervised child (`node:<name>`). */
  name: string;
  role: 'slave' | 'compressor' | 'master';
  /** node.site (a slave's site). */
  site: string;
  dataDir: string;
  ports: NodePorts;
  /** Written to `<dataDir>/cupola.yaml` (mode 0600: it may hold peer tokens) before the first start. */
  config: Record<string, unknown>;
}

/** The supervised child's name of a node. */
export const childName = (node: string): string => `node:${node}`;

/** The loopback address every demo node listens on: nothing of the demo is reachable from the network. */
export const DEMO_HOST = '127.0.0.1';

/** Writes the node's data dir and config file. */
export function prepareNode(spec: NodeSpec): void {
  mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(spec.dataDir, 'cupola.yaml'), stringify(spec.config), { mode: 0o600 });
}

/**
 * The ChildSpec of a node. Ports and identity are flags (pinned: they must not move, peers know them); the admin
 * password goes in the environment, not argv. CUPOLA_* variables of the demo's own environment are cleared so that
 * they cannot point every node at the same port or data dir.
 */
export function nodeChildSpec(spec: NodeSpec, serve: ServeCommand, adminPassword: string): ChildSpec {
  const set = (path: string, value: string | number) => ['--set', `${path}=${value}`];
  const args = [
    ...serve.args,
    'serve',
    ...['--role', spec.role, '--name', spec.name, '--site', spec.site, '--data-dir', spec.dataDir],
    ...set('api.host', DEMO_HOST),
    ...set('api.port', spec.ports.api),
    ...set('media.host', DEMO_HOST),
    ...set('rtmp.port', spec.ports.rtmp),
    ...set('rtsp.f1Port', spec.ports.f1),
    ...set('rtsp.f2Port', spec.ports.f2),
  ];
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (key.startsWith('CUPOLA_')) env[key] = undefined;
  return {
    name: childName(spec.name),
    kind: 'node',
    command: serve.command,
    args,
    // Inside Electron, process.execPath is the Electron binary: run it as plain Node.
    env: { ...env, ELECTRON_RUN_AS_NODE: '1', CUPOLA_AUTH_ADMIN_PASSWORD: adminPassword },
    // A node logs only when something happens: liveness is its HTTP API, not its output.
    stallTimeoutMs: null,
    restart: 'always',
  };
}
