/** Prometheus metrics of the node: process metrics plus per-component gauges read at scrape time. */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ChildStatus } from '../defs/child.js';
import type { JobView } from '../defs/job.js';
import type { NodeHealth } from '../defs/node.js';
import type { PeerHealth } from '../defs/peer.js';
import type { MediaCounters, PlaneStream } from '../media/worker/protocol.js';

/** What the metrics read from the core at scrape time. */
export interface MetricsSources {
  children(): ChildStatus[];
  sseClients(): number;
  eventsPublished(): number;
  streams(): PlaneStream[];
  mediaCounters(): MediaCounters | null;
  jobs(): JobView[];
  /** The peers a master watches ([] elsewhere). */
  peers(): PeerHealth[];
  /** This node's health figures. */
  health(): NodeHealth | null;
}

/** A registry per core (no global default registry: several cores may share a test process). */
export function createMetrics(src: MetricsSources): { registry: Registry; httpRequests: Counter<'status'> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cupola_' });
  new Gauge({
    name: 'cupola_children',
    help: 'Supervised child processes by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of src.children()) this.inc({ state: c.state });
    },
  });
  new Gauge({
    name: 'cupola_child_restarts',
    help: 'Restarts of each supervised child since it was added',
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of src.children()) this.set({ name: c.name }, c.restarts);
    },
  });
  new Gauge({
    name: 'cupola_sse_clients',
    help: 'Open Server-Sent Events connections',
    registers: [registry],
    collect() {
      this.set(src.sseClients());
    },
  });
  new Gauge({
    name: 'cupola_events_published',
    help: 'Id of the newest stored event on the bus',
    registers: [registry],
    collect() {
      this.set(src.eventsPublished());
    },
  });
  const streamGauge = (name: string, help: string, value: (s: PlaneStream) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['plane', 'path'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of src.streams()) this.set({ plane: s.plane, path: s.stats.path }, value(s));
      },
    });
  streamGauge('cupola_stream_readers', 'Readers attached to each stream', (s) => s.stats.readers);
  streamGauge('cupola_stream_bytes_in', 'Bytes received from the publisher of each stream', (s) => s.stats.bytesIn);
  streamGauge('cupola_stream_bytes_out', 'Bytes sent to the readers of each stream', (s) => s.stats.bytesOut);
  streamGauge('cupola_stream_packets_dropped', 'Packets not sent to slow readers', (s) => s.stats.packetsDropped);
  const video = (s: PlaneStream) => s.stats.tracks.find((tr) => tr.media === 'video');
  streamGauge(
    'cupola_stream_bitrate_in_kbps',
    'Bitrate from the publisher (last seconds)',
    (s) => s.stats.bitrateInKbps,
  );
  streamGauge('cupola_stream_bitrate_out_kbps', 'Bitrate to all readers (last seconds)', (s) => s.stats.bitrateOutKbps);
  streamGauge('cupola_stream_fps', 'Video pictures per second (last seconds)', (s) => video(s)?.fps ?? 0);
  streamGauge(
    'cupola_stream_keyframe_interval_seconds',
    'Seconds between the last two video key frames',
    (s) => video(s)?.keyframeIntervalS ?? 0,
  );
  streamGauge('cupola_stream_uptime_seconds', 'Seconds since the stream went online', (s) => s.stats.uptimeMs / 1000);
  new Counter({
    name: 'cupola_media_events_total',
    help: 'Refusals, drops, errors and timeouts on the media ports since the media plane started, by port and kind',
    labelNames: ['port', 'kind'] as const,
    registers: [registry],
    collect() {
      // Totals kept by the worker: a worker restart starts them again at 0, which Prometheus reads as a reset.
      this.reset();
      const totals = src.mediaCounters();
      if (!totals) return;
      for (const [port, counters] of Object.entries(totals)) {
        const entries: Array<[string, number]> = Object.entries(counters ?? {});
        for (const [kind, value] of entries) this.inc({ port, kind: snake(kind) }, value);
      }
    },
  });
  const jobGauge = (name: string, help: string, value: (j: JobView) => number | null | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['job', 'state'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const j of src.jobs()) this.set({ job: j.id, state: j.state }, value(j) ?? 0);
      },
    });
  jobGauge('cupola_job_speed', 'Media seconds per wall second of each job over the last seconds', (j) => j.speed);
  jobGauge('cupola_job_fps', 'Frames per second ffmpeg reports for each job', (j) => j.progress?.fps);
  jobGauge('cupola_job_bitrate_kbps', 'Output bitrate ffmpeg reports for each job', (j) => j.progress?.bitrateKbps);
  jobGauge('cupola_job_cpu_cores', 'CPU cores each job used over the last seconds', (j) => j.cpuCores);
  jobGauge('cupola_job_restarts', "Restarts of each job's ffmpeg", (j) => j.restarts);
  // One snapshot per scrape for the node gauges (it reads /proc for every child).
  let scraped: { at: number; health: NodeHealth | null } | null = null;
  const health = () => {
    const now = performance.now();
    if (!scraped || now - scraped.at > 1000) scraped = { at: now, health: src.health() };
    return scraped.health;
  };
  const nodeGauge = (name: string, help: string, value: (h: NodeHealth) => number | null) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const h = health();
        const v = h ? value(h) : null;
        if (v !== null) this.set(v);
      },
    });
  nodeGauge(
    'cupola_node_cpu_percent',
    'CPU of the machine over the last seconds, percent of all cores',
    (h) => h.machine.cpuPercent,
  );
  nodeGauge(
    'cupola_node_memory_used_bytes',
    'Memory used on the machine (total minus available)',
    (h) => h.machine.memUsedBytes,
  );
  nodeGauge(
    'cupola_node_children_cpu_percent',
    'CPU of the supervised children over the last seconds, percent of one core',
    (h) => h.children.cpuPercent,
  );
  nodeGauge(
    'cupola_node_children_rss_bytes',
    'Resident memory of the supervised children together',
    (h) => h.children.rssBytes,
  );
  const peerGauge = (name: string, help: string, value: (p: PeerHealth, now: number) => number | null | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['kind', 'name', 'url'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const p of src.peers()) {
          const v = value(p, now);
          if (v !== null && v !== undefined) this.set({ kind: p.kind, name: p.name, url: p.url }, v);
        }
      },
    });
  peerGauge('cupola_peer_up', 'Whether each watched peer answers its health checks (1 up, 0 down or unknown)', (p) =>
    p.state === 'up' ? 1 : 0,
  );
  peerGauge('cupola_peer_rtt_seconds', 'Round trip of the last answered health check of each peer', (p) =>
    p.rttMs === null ? null : p.rttMs / 1000,
  );
  peerGauge('cupola_peer_last_seen_age_seconds', 'Seconds since each peer last answered a health check', (p, now) =>
    p.lastSeen === null ? null : Math.max(0, (now - Date.parse(p.lastSeen)) / 1000),
  );
  peerGauge(
    'cupola_peer_cpu_percent',
    "CPU of each peer's machine as it last reported, percent of all cores",
    (p) => p.node?.health?.machine.cpuPercent,
  );
  peerGauge(
    'cupola_peer_process_cpu_percent',
    "CPU of each peer's Cupola process as it last reported, percent of one core",
    (p) => p.node?.health?.process.cpuPercent,
  );
  peerGauge(
    'cupola_peer_rss_bytes',
    "Resident memory of each peer's Cupola process as it last reported",
    (p) => p.node?.health?.process.rssBytes,
  );
  const httpRequests = new Counter({
    name: 'cupola_http_requests_total',
    help: 'HTTP requests answered, by status class',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  return { registry, httpRequests };
}

/** `readersDropped` → `readers_dropped`, as Prometheus label values go. */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
