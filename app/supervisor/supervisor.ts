/** The Supervisor: the only owner of child processes in a Cupola core. */
import type { ChildStatus } from '../defs/child.js';
import { ChildRunner } from './child-runner.js';
import { detectPdeathsigWrapper } from './launch.js';
import { ChildRegistry } from './registry.js';
import type { ChildSpec, SupervisedChild, SupervisorDeps } from './types.js';

/** How children are kept from outliving a crashed core: by the kernel, or only by the reaper at next start. */
export type OrphanGuard = 'pdeathsig' | 'reaper-only';

/** Spawns, watches, restarts and stops every child process of the core. */
export class Supervisor {
  private readonly children = new Map<string, ChildRunner>();
  private registry: ChildRegistry | undefined;
  private wrapper: string | undefined;
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  constructor(private readonly deps: SupervisorDeps) {}

  /** Kills children left over by a previous crashed run, then probes for setpriv --pdeathsig. */
  async start(): Promise<void> {
    if (this.state === 'started' || this.state === 'stopping') throw new Error('Supervisor is already started');
    const { log, runDir } = this.deps;
    const registry = new ChildRegistry(runDir, (err) => log.warn({ err }, 'cannot write the run file of children'));
    const report = registry.reap();
    if (report.killed.length > 0) {
      log.warn({ children: report.killed.map((c) => c.name) }, 'killed children left over by a previous run');
    }
    this.wrapper = detectPdeathsigWrapper();
    if (!this.wrapper) {
      log.warn(
        'setpriv --pdeathsig is unavailable: children of a crashed core live on until the next start reaps them',
      );
    }
    this.registry = registry;
    this.state = 'started';
    log.debug({ runDir, orphanGuard: this.orphanGuard }, 'supervisor started');
  }

  /** Which orphan protection is active (meaningful after start()). */
  get orphanGuard(): OrphanGuard {
    return this.wrapper ? 'pdeathsig' : 'reaper-only';
  }

  /** Starts supervising a new child; throws when not started or when the name is taken. */
  spawn(spec: ChildSpec): SupervisedChild {
    const registry = this.registry;
    if (this.state !== 'started' || !registry)
      throw new Error(`Supervisor is ${this.state}; cannot spawn ${spec.name}`);
    if (!spec.name) throw new Error('ChildSpec.name must not be empty');
    if (this.children.has(spec.name)) throw new Error(`a child named ${spec.name} already exists`);
    if (spec.progress && spec.kind !== 'ffmpeg') throw new Error(`${spec.name}: progress is only for kind 'ffmpeg'`);
    if (spec.ipc && spec.dataPipe) throw new Error(`${spec.name}: dataPipe and ipc both want fd 3`);
    const { log, bus, options } = this.deps;
    const runner = new ChildRunner(spec, { log, bus, options, recorder: registry, wrapper: this.wrapper });
    this.children.set(spec.name, runner);
    runner.start();
    return runner;
  }

  /** The child named `name`, if any. */
  get(name: string): SupervisedChild | undefined {
    return this.children.get(name);
  }

  /** Snapshots of every child. */
  list(): ChildStatus[] {
    return [...this.children.values()].map((c) => c.status());
  }

  /** Stops a child and forgets it; resolves once its processes are gone. */
  async remove(name: string): Promise<void> {
    const runner = this.children.get(name);
    if (!runner) return;
    await runner.stop();
    this.children.delete(name);
  }

  /** Stops every child (in parallel) and cancels pending restarts; resolves once all are gone. */
  stop(): Promise<void> {
    if (this.state === 'stopping' && this.stopping) return this.stopping;
    if (this.state !== 'started') return Promise.resolve();
    this.state = 'stopping';
    this.stopping = this.stopAll().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    await Promise.all([...this.children.values()].map((c) => c.stop()));
    this.children.clear();
    this.registry?.close();
    this.registry = undefined;
    this.state = 'stopped';
    this.deps.log.debug('supervisor stopped');
  }
}
