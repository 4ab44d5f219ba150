/** Identity and uptime of the node this UI is served by. */
import { useEffect, useState } from 'react';
import { formatUptime } from '../state/describe-event.js';
import { useSession } from '../state/app-context.js';

/** Re-renders once a second so uptime ticks without asking the core. */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** The node panel. */
export function NodeCard() {
  const node = useSession((s) => s.node);
  const fetchedAt = useSession((s) => s.nodeFetchedAt);
  const now = useNow(1000);
  if (!node) return null;
  const uptime = node.uptimeS + (now - fetchedAt) / 1000;

  return (
    <section className="panel node-card" aria-label="Node">
      <h2>Node</h2>
      <dl className="kv">
        <dt>Name</dt>
        <dd data-testid="node-name">{node.name}</dd>
        <dt>Site</dt>
        <dd>{node.site}</dd>
        <dt>Roles</dt>
        <dd>
          {node.roles.map((r) => (
            <span key={r} className="chip">
              {r}
            </span>
          ))}
        </dd>
        <dt>Version</dt>
        <dd className="mono">{node.version}</dd>
        <dt>Uptime</dt>
        <dd className="mono" title={`started ${node.startedAt}`}>
          {formatUptime(uptime)}
        </dd>
        <dt>PID</dt>
        <dd className="mono">{node.pid}</dd>
      </dl>
    </section>
  );
}
