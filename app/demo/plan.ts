/**
 * The demo's topology as data: which nodes run (one slave per site, one compressor, one master) and which
 * synthetic cameras push to which slave. Pure: no ports, no processes.
 */

/** Most cameras and sites the demo accepts (a 2-core machine holds about 4 cameras with room to spare). */
export const MAX_CAMERAS = 32;
export const MAX_SITES = 8;

/** One synthetic camera. */
export interface CameraPlan {
  /** Camera id on its slave, and the `<camera>` of `<site>/<camera>` on the master; unique across sites. */
  id: string;
  site: string;
}

/** One site: its slave (node name = site name) and its cameras. */
export interface SitePlan {
  site: string;
  cameras: CameraPlan[];
}

/** The whole topology. */
export interface DemoPlan {
  sites: SitePlan[];
  cameras: CameraPlan[];
  compressor: string;
  master: string;
}

/** `site-a`, `site-b`, … for site number 0, 1, … */
export function siteName(index: number): string {
  return `site-${String.fromCharCode(97 + index)}`;
}

/**
 * Spreads `cameras` over `sites` slaves: contiguous blocks, the first sites taking one more when it does not divide
 * (4 over 2: site-a cam-1 cam-2, site-b cam-3 cam-4). More sites than cameras are cut to one camera each.
 */
export function planDemo(cameras: number, sites: number): DemoPlan {
  if (!Number.isInteger(cameras) || cameras < 1 || cameras > MAX_CAMERAS)
    throw new RangeError(`--cameras: expected an integer 1-${MAX_CAMERAS}, got ${cameras}`);
  if (!Number.isInteger(sites) || sites < 1 || sites > MAX_SITES)
    throw new RangeError(`--sites: expected an integer 1-${MAX_SITES}, got ${sites}`);
  const count = Math.min(sites, cameras);
  const out: SitePlan[] = [];
  let next = 1;
  for (let i = 0; i < count; i++) {
    const site = siteName(i);
    const n = Math.floor(cameras / count) + (i < cameras % count ? 1 : 0);
    const list: CameraPlan[] = [];
    for (let k = 0; k < n; k++) list.push({ id: `cam-${next++}`, site });
    out.push({ site, cameras: list });
  }
  return { sites: out, cameras: out.flatMap((s) => s.cameras), compressor: 'compressor', master: 'master' };
}
