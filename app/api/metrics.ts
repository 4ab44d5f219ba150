/** Prometheus metrics of the node: process metrics plus per-component gauges read at scrape time. */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ChildStatus } from '../defs/child.js';
import type { JobView } from '../defs/job.js';
import type { MediaCounters, PlaneStream } from '../media/worker/protocol.js';

/** What the metrics read from the core at scrape time. */
export interface MetricsSources {
  children(): ChildStatus[];
  sseClients(): number;
  eventsPublished(): number;
  streams(): PlaneStream[];
  mediaCounters(): MediaCounters | null;
  jobs(): JobView[];
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
