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
  /** Load and counts of this node (null only in the answer of an older node that does not report them). */
  health: NodeHealth | null;
}

/**
 * Load and work of a node, sampled every second over the last few seconds (`GET /api/v1/node`, and what a master
 * shows of each peer). CPU of the machine is a percentage of all its cores (0-100); CPU of a process is a percentage
 * of one core, as `top` shows it (a process busy on two cores is at 200). CPU figures are null until two samples
 * exist (the first seconds after start) or without /proc.
 */
export interface NodeHealth {
  /** When the figures were last sampled. */
  sampledAt: string;
  /** Over how many seconds the CPU figures are averaged. */
  windowS: number;
  machine: {
    cores: number;
    cpuPercent: number | null;
    /** 1, 5 and 15 minute load averages. */
    loadAvg: [number, number, number];
    memUsedBytes: number;
    memTotalBytes: number;
  };
  /** This node's own process. */
  process: { cpuPercent: number | null; rssBytes: number };
  /** The supervised children together (media plane worker, ffmpeg jobs, previews): how many run, CPU and RSS. */
  children: { count: number; cpuPercent: number | null; rssBytes: number };
  /** Streams with a publisher now, per plane (slave role; null elsewhere). */
  streams: { f1: number; f2: number } | null;
  /** Transcoding jobs (compressor role; null elsewhere): running = running or degraded, waiting = for capacity. */
  jobs: { total: number; running: number; waiting: number } | null;
  /** Relays a master runs, one per camera and plane (master role; null elsewhere). */
  relays: number | null;
}
