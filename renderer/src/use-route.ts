/** React hook following the hash route. */
import { useEffect, useState } from 'react';
import { parseRoute, type RouteId } from './routes.js';

/** The current route, following `hashchange`. */
export function useRoute(): RouteId {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
