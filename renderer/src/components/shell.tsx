/** The signed-in frame: top bar, left nav, and the section for the current route. */
import { lazy, Suspense, useEffect } from 'react';
import { ROUTES, type RouteId } from '../routes.js';
import { useRoute } from '../use-route.js';
import { useServices, useSession } from '../state/app-context.js';
import { DashboardView } from '../views/dashboard-view.js';
import { PlaceholderView } from '../views/placeholder-view.js';

const NODE_REFRESH_MS = 30_000;

// hls.js is most of the mosaic's weight: a chunk of its own, loaded when the mosaic is first opened.
const MosaicView = lazy(async () => ({ default: (await import('../views/mosaic-view.js')).MosaicView }));

function Section({ route }: { route: RouteId }) {
  if (route === 'dashboard') return <DashboardView />;
  if (route === 'mosaic') {
    return (
      <Suspense fallback={<div className="splash">Loading the mosaic…</div>}>
        <MosaicView />
      </Suspense>
    );
  }
  const label = ROUTES.find((r) => r.id === route)?.label ?? route;
  return <PlaceholderView title={label} />;
}

/** The shell; owns the SSE subscription and node polling for as long as someone is signed in. */
export function Shell() {
  const { platform, session, feed } = useServices();
  const route = useRoute();
  const node = useSession((s) => s.node);
  const desktop = platform.desktop;

  useEffect(() => {
    const close = feed.getState().connect();
    const timer = setInterval(() => void session.getState().reloadNode(), NODE_REFRESH_MS);
    return () => {
      close();
      clearInterval(timer);
      feed.getState().clear();
    };
  }, [feed, session]);

  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <img src="/favicon.png" alt="" width={18} height={18} />
          <span>Cupola</span>
        </div>
        <div className="topbar-node">
          {node && (
            <>
              <strong>{node.name}</strong>
              <span className="muted">site {node.site}</span>
            </>
          )}
        </div>
        <div className="topbar-actions">
          {desktop && (
            <button type="button" className="ghost" onClick={() => void desktop.openMosaicWindow()}>
              Mosaic window
            </button>
          )}
          <button type="button" className="ghost" onClick={() => void session.getState().logout()}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Sections">
        {ROUTES.map((r) => (
          <a
            key={r.id}
            href={`#/${r.id}`}
            className={r.id === route ? 'active' : undefined}
            aria-current={r.id === route ? 'page' : undefined}
          >
            {r.label}
          </a>
        ))}
        {desktop && <div className="sidenav-foot muted">desktop {desktop.version}</div>}
      </nav>
      <main className="content">
        <Section route={route} />
      </main>
    </div>
  );
}
