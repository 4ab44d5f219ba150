/** Node identity shapes shared by api, renderer and main. */

/** The roles a node can take; `all` runs slave, compressor and master on one box. */
export const ROLES = ['slave', 'compressor', 'master', 'all'] as const;
/** A configured role. */
export type Role = (typeof ROLES)[number];

/** What `GET /api/v1/node` returns. */
export interface NodeInfo {
  name: string;
  site: string;
  roles: Role[];
  version: string;
  startedAt: string;
  uptimeS: number;
  pid: number;
  /** Ports of the media plane on a slave once it listens (actual ports when 0 was configured), else null. */
  media: { host: string; rtmpPort: number; f1Port: number; f2Port: number } | null;
}
