/** Shared set-up of the Supervisor integration tests: a started Supervisor, an event recorder, cleanup. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { BusEvent, EventMap, EventType } from '../../../app/defs/events.js';
import { EventBus } from '../../../app/events/bus.js';
import { silentLogger, type Logger } from '../../../app/log/logger.js';
import { Supervisor } from '../../../app/supervisor/supervisor.js';
import type { SupervisorOptions } from '../../../app/supervisor/types.js';
import { killAll, uniqueMarker } from '../../helpers/processes.js';

/** Small timings so restarts and stalls happen within a test's patience. */
export const FAST: SupervisorOptions = {
  stallTimeoutMs: 1000,
  backoffInitialMs: 100,
  backoffMaxMs: 400,
  healthyAfterMs: 60_000,
  stopTimeoutMs: 500,
};

/** The real ffmpeg every integration test uses. */
export const FFMPEG = '/usr/bin/ffmpeg';

/** Args of a real-time test-pattern encode to nowhere, tagged with `marker` so orphan checks can find it. */
export function testsrcArgs(marker: string): string[] {
  return [
    '-hide_banner',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-metadata',
    `comment=${marker}`,
    '-f',
    'null',
    '-',
  ];
}

/** Records every bus event and lets a test wait for one. */
export class EventLog {
  readonly events: BusEvent[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(bus: EventBus) {
    bus.onAny((e) => {
      this.events.push(e);
      for (const wake of [...this.waiters]) wake();
    });
  }

  /** Recorded events of one type (optionally for one child), oldest first; `since` skips the first events. */
  of<K extends EventType>(type: K, name?: string, since = 0): EventMap[K][] {
    return this.events
      .slice(since)
      .filter((e) => e.type === type && (name === undefined || (e.data as { name?: string }).name === name))
      .map((e) => e.data as EventMap[K]);
  }

  /** A position in the log, for waitFor's `since`. */
  mark(): number {
    return this.events.length;
  }

  /**
   * The first event of `type` matching `match`, already recorded (from position `since`) or future;
   * rejects after `timeoutMs`.
   */
  waitFor<K extends EventType>(
    type: K,
    match: (data: EventMap[K]) => boolean = () => true,
    { timeoutMs = 5000, since = 0 }: { timeoutMs?: number; since?: number } = {},
  ): Promise<EventMap[K]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.of(type, undefined, since).find(match);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${type} event within ${timeoutMs} ms; got: ${this.events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      const wake = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
      check();
    });
  }

  /** Every pid ever reported by 'child.started'. */
  pids(): number[] {
    return this.of('child.started').map((d) => d.pid);
  }
}

/** A started Supervisor with its bus, event log, run dir and a marker unique to the test. */
export interface Harness {
  sup: Supervisor;
  bus: EventBus;
  events: EventLog;
  runDir: string;
  marker: string;
}

/** Starts a Supervisor whose stop(), process cleanup and run-dir removal are registered with t.after. */
export async function startHarness(
  t: TestContext,
  options: Partial<SupervisorOptions> = {},
  log: Logger = silentLogger(),
): Promise<Harness> {
  const runDir = mkdtempSync(join(tmpdir(), 'cupola-sup-'));
  const bus = new EventBus();
  const events = new EventLog(bus);
  const sup = new Supervisor({ log, bus, options: { ...FAST, ...options }, runDir });
  t.after(async () => {
    await sup.stop();
    killAll(events.pids()); // only does something when the test failed half-way
    rmSync(runDir, { recursive: true, force: true });
  });
  await sup.start();
  return { sup, bus, events, runDir, marker: uniqueMarker() };
}
