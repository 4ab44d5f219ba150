/** The live event feed, newest first. */
import { describeEvent } from '../state/describe-event.js';
import { useFeed } from '../state/app-context.js';
import { FEED_LIMIT } from '../state/feed.js';

function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

/** The feed panel. */
export function EventFeed() {
  const events = useFeed((s) => s.events);
  return (
    <section className="panel feed" aria-label="Live events">
      <h2>
        Live events <span className="muted">{events.length ? `${events.length} / ${FEED_LIMIT}` : ''}</span>
      </h2>
      {events.length === 0 ? (
        <p className="muted">Waiting for events…</p>
      ) : (
        <ol className="feed-list" data-testid="event-feed">
          {events.map((e, i) => {
            const { text, severity } = describeEvent(e);
            return (
              <li key={e.id || `v${i}-${e.time}`} className={`feed-row sev-${severity}`} data-type={e.type}>
                <time className="mono" dateTime={e.time}>
                  {clock(e.time)}
                </time>
                <span className="feed-type mono">{e.type}</span>
                <span className="feed-text">{text}</span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
