/** Hash routes of the shell; hash routing keeps the core's SPA fallback trivial and works for `/#/mosaic` windows. */

/** The sections of the left nav, in order. */
export const ROUTES = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'mosaic', label: 'Mosaic' },
  { id: 'health', label: 'Health' },
  { id: 'logs', label: 'Logs' },
  { id: 'settings', label: 'Settings' },
] as const;

/** One route id. */
export type RouteId = (typeof ROUTES)[number]['id'];

/** Maps `#/mosaic` (or `#mosaic`, or junk) to a route id; unknown routes land on the dashboard. */
export function parseRoute(hash: string): RouteId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return ROUTES.find((r) => r.id === id)?.id ?? 'dashboard';
}
