/** The Supervisor's public shapes: what callers hand in (ChildSpec) and what they get back (SupervisedChild). */
import type { ChildStatus } from '../defs/child.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';

/** When an exited child is started again. */
export type RestartPolicy = 'always' | 'on-failure' | 'never';

/** Everything the Supervisor needs to run one child. */
export interface ChildSpec {
  /** Unique among the Supervisor's children; used in events, logs and the run file. */
  name: string;
  kind: 'ffmpeg' | 'node' | 'other';
  /** A path or a bare name looked up in PATH (of `env` merged over the core's environment). */
  command: string;
  /**
   * Read again at every (re)start, so a getter may hand each start fresh arguments (the compressor's jobs: the
   * current lease credential in their URLs).
   */
  args: readonly string[];
  /** Merged over the core's environment. Values are never logged (they may hold secrets). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** ffmpeg only: prepend `-progress pipe:1 -nostats` and parse stdout into ChildProgress. */
  progress?: boolean;
  /** Silence (no progress / activity) after which the child is killed and restarted; null = no watchdog. */
  stallTimeoutMs?: number | null;
  /** Default 'always'. */
  restart?: RestartPolicy;
  /** Node workers: open an IPC channel; every message counts as activity for the watchdog. */
  ipc?: boolean;
  /**
   * Opens fd 3 of the child as a pipe to the core (ffmpeg: `pipe:3`, e.g. JPEG frames) and hands every chunk to this
   * function with the attempt number of the incarnation that wrote it (a new number = a new stream of bytes).
   * Each chunk counts as activity for the watchdog. Not together with `ipc`.
   */
  dataPipe?: (chunk: Buffer, attempt: number) => void;
}

/** Read-only view of a child, for the API and UI. */
export interface ChildView {
  readonly name: string;
  /** A snapshot of the child's state. */
  status(): ChildStatus;
  /** The last 200 output lines (stderr, and stdout unless it carries -progress data), oldest first. */
  logs(): string[];
}

/** The IPC side of a node worker spawned with `ipc: true`. */
export interface ChildChannel {
  /** Sends a message to the current process; false when there is no connected channel (not running, no ipc). */
  send(message: unknown): boolean;
  /** Listens for messages from every incarnation of the child; returns the unsubscribe function. */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** A child under supervision; the handle stays valid across restarts. */
export interface SupervisedChild extends ChildView, ChildChannel {}

/** The Supervisor's timing knobs (the `supervisor` section of the config). */
export type SupervisorOptions = Config['supervisor'];

/** What a Supervisor is built from. */
export interface SupervisorDeps {
  log: Logger;
  bus: EventBus;
  options: SupervisorOptions;
  /** Directory of the run file listing live children, for the reaper after a crash. */
  runDir: string;
}
