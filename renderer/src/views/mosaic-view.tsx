/**
 * Mosaic: live tiles of every stream this node can preview (a master's relays, a slave's cameras), F2 by default,
 * at most one page of tiles (1/4/9/16) playing at a time, started one after another. Leaving the view unmounts
 * the tiles, which destroys their players: the core stops each muxer `previews.hlsIdleS` after its last request.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { MosaicTile } from '../components/mosaic-tile.js';
import { ApiError } from '../platform/api-error.js';
import { loadMosaicInput } from '../platform/mosaic-api.js';
import { StartQueue } from '../player/start-queue.js';
import { useServices, useSession } from '../state/app-context.js';
import {
  GRID_SIZES,
  mosaicNews,
  mosaicSources,
  pageCount,
  pageOf,
  parsePrefs,
  type Feed,
  type MosaicInput,
  type MosaicPrefs,
} from '../state/mosaic.js';

/** The next tile starts when the previous one plays, fails, or after this long. */
const START_GAP_MS = 4000;
/** The list is read again this often (and soon after a stream or camera event). */
const LIST_REFRESH_MS = 10_000;
const PREFS_KEY = 'cupola.mosaic';

function loadPrefs(): MosaicPrefs {
  try {
    return parsePrefs(localStorage.getItem(PREFS_KEY));
  } catch {
    return parsePrefs(null);
  }
}

function savePrefs(prefs: MosaicPrefs): void {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // storage refused (private mode, quota): the choice lasts as long as the page
  }
}

/** The stream list, read now, every LIST_REFRESH_MS and soon after a stream or camera event. */
function useMosaicInput(master: boolean, slave: boolean): { input: MosaicInput | null; error: string | null } {
  const { platform, feed } = useServices();
  const [input, setInput] = useState<MosaicInput | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let closed = false;
    let seq = 0;
    let soon: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      const mine = ++seq;
      loadMosaicInput(platform, { master, slave }).then(
        (next) => {
          if (closed || mine !== seq) return;
          setInput(next);
          setError(null);
        },
        (err: unknown) => {
          if (closed || mine !== seq) return;
          setError(err instanceof ApiError ? err.message : 'Cannot read the stream list.');
        },
      );
    };
    load();
    const timer = setInterval(load, LIST_REFRESH_MS);
    const unsubscribe = feed.subscribe((now, before) => {
      if (!mosaicNews(now.events, before.events).reload) return;
      clearTimeout(soon);
      soon = setTimeout(load, 300);
    });
    return () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(soon);
      unsubscribe();
    };
  }, [platform, feed, master, slave]);
  return { input, error };
}

/** The mosaic section. */
export function MosaicView() {
  const roles = useSession((s) => s.node?.roles);
  const master = roles?.includes('master') ?? false;
  const slave = roles?.includes('slave') ?? false;
  const { input, error } = useMosaicInput(master, slave);
  const [prefs, setPrefs] = useState(loadPrefs);
  const [page, setPage] = useState(0);
  const [alone, setAlone] = useState<string | null>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const queue = useMemo(() => new StartQueue(START_GAP_MS), []);
  useEffect(() => () => queue.clear(), [queue]);

  const sources = useMemo(() => (input ? mosaicSources(input, prefs.feed) : []), [input, prefs.feed]);
  const pages = pageCount(sources.length, prefs.grid);
  const current = Math.min(page, pages - 1);
  const single = alone !== null ? sources.find((s) => s.key === alone) : undefined;
  const visible = single ? [single] : pageOf(sources, prefs.grid, current);
  const online = sources.filter((s) => s.online).length;

  useEffect(() => {
    if (!single) return;
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') setAlone(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [single]);

  const choose = (next: Partial<MosaicPrefs>) => {
    const merged = { ...prefs, ...next };
    setPrefs(merged);
    savePrefs(merged);
    if (next.grid !== undefined) setPage(Math.floor((current * prefs.grid) / next.grid));
  };
  const fullScreen = () => void gridRef.current?.requestFullscreen().catch(() => {});

  return (
    <section className="mosaic" aria-label="Mosaic">
      <div className="mosaic-bar">
        <h2>Mosaic</h2>
        <span className="muted" data-testid="mosaic-count">
          {input ? `${sources.length} streams, ${online} online` : 'Loading streams…'}
        </span>
        <div className="seg" role="group" aria-label="Feed">
          {(['f2', 'f1'] as Feed[]).map((f) => (
            <button
              key={f}
              type="button"
              aria-pressed={prefs.feed === f}
              title={f === 'f2' ? 'F2: compressed, cheap to watch' : 'F1: full quality'}
              onClick={() => choose({ feed: f })}
            >
              {f.toUpperCase()}
            </button>
          ))}
        </div>
        <div className="seg" role="group" aria-label="Tiles per page">
          {GRID_SIZES.map((g) => (
            <button key={g} type="button" aria-pressed={prefs.grid === g} onClick={() => choose({ grid: g })}>
              {g}
            </button>
          ))}
        </div>
        {single ? (
          <button type="button" className="ghost" onClick={() => setAlone(null)}>
            Back to the grid
          </button>
        ) : (
          <div className="pager">
            <button
              type="button"
              className="ghost"
              aria-label="Previous page"
              disabled={current === 0}
              onClick={() => setPage(current - 1)}
            >
              ‹
            </button>
            <span className="mono" data-testid="mosaic-page">
              {current + 1} / {pages}
            </span>
            <button
              type="button"
              className="ghost"
              aria-label="Next page"
              disabled={current >= pages - 1}
              onClick={() => setPage(current + 1)}
            >
              ›
            </button>
          </div>
        )}
        <button type="button" className="ghost" onClick={fullScreen}>
          Full screen
        </button>
      </div>
      {error && <p className="mosaic-error">{error}</p>}
      {input && sources.length === 0 ? (
        <p className="mosaic-empty muted">
          No stream to preview: a slave shows its cameras here, a master the cameras it relays.
        </p>
      ) : (
        <div ref={gridRef} className={`mosaic-grid g${single ? 1 : prefs.grid}`}>
          {visible.map((s) => (
            <MosaicTile
              key={s.key}
              source={s}
              queue={queue}
              alone={single !== undefined}
              onToggleAlone={(key) => setAlone((a) => (a === key ? null : key))}
            />
          ))}
        </div>
      )}
    </section>
  );
}
