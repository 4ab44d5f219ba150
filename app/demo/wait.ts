/**
 * Waiting for the demo's nodes: a node answering /health, and every camera online as F1 and F2 on its slave and
 * relayed by the master.
 */
import type { ChildView } from '../supervisor/types.js';
import type { NodeApi } from './node-api.js';

const POLL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last lines of a child's output, for an error message. */
function tail(child: ChildView, lines = 15): string {
  return child
    .logs()
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}

/**
 * Resolves once `api` answers /health; rejects when the node's process exits first (a port taken, a bad config: its
 * last output lines are in the message) or after `timeoutMs`.
 */
export async function untilReady(
  api: NodeApi,
  child: ChildView,
  name: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const exitBefore = child.status().lastExit?.at;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error('the demo was stopped');
    if (await api.ready()) return;
    const st = child.status();
    if (st.state === 'gave-up' || (st.lastExit && st.lastExit.at !== exitBefore)) {
      const how = st.lastExit?.signal ?? `code ${st.lastExit?.code}`;
      throw new Error(`node ${name} exited (${how}) before it was ready:\n${tail(child)}`);
    }
    if (performance.now() > deadline)
      throw new Error(`node ${name} did not answer ${api.url}/health within ${timeoutMs} ms:\n${tail(child)}`);
    await sleep(POLL_MS);
  }
}

/** One slave's cameras. */
export interface SlaveCameras {
  site: string;
  api: NodeApi;
  cameras: string[];
}

interface StreamsAnswer {
  streams: Array<{ plane: 'f1' | 'f2'; stats: { path: string; publisher: unknown } }>;
}

/** Cameras of `s` not yet online (publisher attached) on both planes, as `f1/<id>` / `f2/<id>`. */
export async function missingStreams(s: SlaveCameras): Promise<string[]> {
  const { streams } = await s.api.get<StreamsAnswer>('/api/v1/streams');
  const online = new Set(streams.filter((x) => x.stats.publisher !== null).map((x) => `${x.plane}/${x.stats.path}`));
  return s.cameras.flatMap((id) => [`f1/${id}`, `f2/${id}`]).filter((key) => !online.has(key));
}

interface RelaysAnswer {
  relays: Array<{ plane: 'f1' | 'f2'; path: string; state: string | null }>;
}

/** Relays of `paths` (`<site>/<camera>`) not playing on the master, as `f1/<path>` / `f2/<path>`. */
export async function missingRelays(master: NodeApi, paths: string[]): Promise<string[]> {
  const { relays } = await master.get<RelaysAnswer>('/api/v1/relays');
  const playing = new Set(relays.filter((r) => r.state === 'playing').map((r) => `${r.plane}/${r.path}`));
  return paths.flatMap((p) => [`f1/${p}`, `f2/${p}`]).filter((key) => !playing.has(key));
}

/**
 * Waits until every camera is online as F1 and F2 on its slave and both are relayed by the master; resolves with
 * the ms it took.
 */
export async function waitStreams(
  slaves: SlaveCameras[],
  master: NodeApi,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const start = performance.now();
  const paths = slaves.flatMap((s) => s.cameras.map((c) => `${s.site}/${c}`));
  let missing: string[] = [];
  for (;;) {
    if (signal?.aborted) throw new Error('the demo was stopped');
    try {
      const lists = await Promise.all([
        ...slaves.map(async (s) => (await missingStreams(s)).map((m) => `${s.site} ${m}`)),
        missingRelays(master, paths).then((list) => list.map((m) => `master relay ${m}`)),
      ]);
      missing = lists.flat().sort();
    } catch (err) {
      missing = [String(err)];
    }
    if (missing.length === 0) return performance.now() - start;
    if (performance.now() - start > timeoutMs)
      throw new Error(`streams still offline after ${timeoutMs} ms: ${missing.join(', ')}`);
    await sleep(500);
  }
}
