/** Dashboard: this node at a glance and the live event feed. */
import { EventFeed } from '../components/event-feed.js';
import { NodeCard } from '../components/node-card.js';

/** The dashboard section. */
export function DashboardView() {
  return (
    <div className="dashboard">
      <NodeCard />
      <EventFeed />
    </div>
  );
}
