/**
 * A change of a stream's URLs, from SSE, the seed's config endpoint or an operator: check the URLs, probe a new
 * source when asked, switch the running job (fast restart or make-before-break), then record the change and its
 * measured gap. An update that fails a check, its probe or its switch changes nothing and is logged with its reasons;
 * the running stream keeps going.
 */
import type { SwitchMode, UrlChangeSource } from '../defs/relay.js';
import type { RelayStreamRow } from '../store/repos/relay-streams.js';
import { RelayError, type RelayContext } from './context.js';
import type { SourceInfo } from './probe.js';
import { checkUrl, unmaskUrl, type UrlKind } from './urls.js';
import { maskUrl } from '../log/mask.js';

/** What to change. Absent URLs stay as they are. */
export interface UrlChangeRequest {
  streamId: string;
  rtspUrl?: string | null;
  rtmpUrl?: string | null;
  /** Switch a running job now (restart_required / restart_stream); otherwise the change applies at its next start. */
  restart: boolean;
  /** Probe the new source first; default: relay.probeBeforeSwitch when the job is switched. */
  probe?: boolean;
  source: UrlChangeSource;
  eventId?: string | null;
  /** The url_update's timestamp (SSE), stored as the stream's last applied one. */
  timestampMs?: number;
}

/** The outcome, in the seed's terms (`validated`, `errors`) plus what happened. */
export interface UrlChangeResult {
  validated: boolean;
  errors: string[];
  changed: boolean;
  switched: boolean;
  mode: SwitchMode | null;
  gapMs: number | null;
  message: string;
}

const refused = (errors: string[], validated = false): UrlChangeResult => ({
  validated,
  errors,
  changed: false,
  switched: false,
  mode: null,
  gapMs: null,
  message: validated ? 'the switch failed; nothing changed' : 'invalid update; nothing changed',
});

/** Applies a URL change (serialised with every other operation on the stream). */
export function changeUrls(ctx: RelayContext, req: UrlChangeRequest): Promise<UrlChangeResult> {
  return ctx.serial(req.streamId, () => apply(ctx, req));
}

async function apply(ctx: RelayContext, req: UrlChangeRequest): Promise<UrlChangeResult> {
  const id = req.streamId;
  const row = ctx.store.relayStreams.get(id);
  const reject = (errors: string[], validated = false) => {
    ctx.log(id, validated ? 'error' : 'warn', `update from ${req.source} refused: ${errors.join('; ')}`);
    ctx.bus.emit('relay.update.rejected', { id, source: req.source, errors });
    return refused(errors, validated);
  };
  const errors: string[] = [];
  // A URL sent back as it was shown (`***` for its secrets) keeps the stored secrets; a mask is never stored.
  const given = (kind: UrlKind, url: string | null | undefined, stored: string | undefined) => {
    if (!url) return null;
    const restored = unmaskUrl(kind, url, stored);
    errors.push(...restored.errors);
    if (!restored.errors.length) errors.push(...checkUrl(kind, restored.url));
    return restored.url;
  };
  const rtspGiven = given('rtsp_url', req.rtspUrl, row?.rtsp_url);
  const rtmpGiven = given('rtmp_url', req.rtmpUrl, row?.rtmp_url);
  if (!req.rtspUrl && !req.rtmpUrl) errors.push('expected rtsp_url, rtmp_url or both');
  const rtsp = rtspGiven || row?.rtsp_url;
  const rtmp = rtmpGiven || row?.rtmp_url;
  if (!row && (!rtsp || !rtmp)) errors.push(`stream ${id} does not exist yet: give both rtsp_url and rtmp_url`);
  if (errors.length || !rtsp || !rtmp) return reject(errors);

  const changed = !row || rtsp !== row.rtsp_url || rtmp !== row.rtmp_url;
  if (!changed) {
    if (req.timestampMs !== undefined) saveTimestamp(ctx, row, req.timestampMs);
    return { ...refused([], true), changed: false, message: 'URLs unchanged' };
  }
  const job = ctx.job(id);
  const willSwitch = !!row && row.enabled === 1 && job.active && req.restart;
  const sourceChanged = !row || rtsp !== row.rtsp_url;
  let info: SourceInfo | null = null;
  if (sourceChanged && (req.probe ?? (willSwitch && ctx.config().probeBeforeSwitch))) {
    const probe = await ctx.probe(rtsp);
    if (!probe.ok) return reject([`rtsp_url: probe failed: ${probe.error}`]);
    info = probe.info;
  }

  const next: RelayStreamRow = row ? { ...row, rtsp_url: rtsp, rtmp_url: rtmp } : newRow(id, rtsp, rtmp, req.restart);
  if (req.timestampMs !== undefined) next.last_update_at = new Date(req.timestampMs).toISOString();

  let mode: SwitchMode | null = null;
  let gapMs: number | null = null;
  let overlapMs: number | null = null;
  if (willSwitch) {
    let plan;
    try {
      plan = ctx.plan(next, info);
    } catch (err) {
      return reject([err instanceof RelayError ? err.message : String(err)], true);
    }
    const result =
      rtmp !== row.rtmp_url
        ? await job.makeBeforeBreak(plan, ctx.config().switchTimeoutMs)
        : await job.restart(plan, ctx.config().switchTimeoutMs);
    if (!result.ok) return reject([`switch failed: ${result.error}`], true);
    ({ mode, gapMs, overlapMs } = result);
    ctx.switched(id, { at: new Date().toISOString(), mode, gapMs, overlapMs });
  }

  const keep = ctx.config().retention.historyRows;
  ctx.store.transaction(() => {
    if (row) ctx.store.relayStreams.update(next);
    else ctx.store.relayStreams.insert(next);
    ctx.store.urlHistory.add(
      {
        stream_id: id,
        old_rtsp_url: row ? maskUrl(row.rtsp_url) : null,
        new_rtsp_url: maskUrl(rtsp),
        old_rtmp_url: row ? maskUrl(row.rtmp_url) : null,
        new_rtmp_url: maskUrl(rtmp),
        change_source: req.source,
        event_id: req.eventId ?? null,
        switched: mode ? 1 : 0,
        gap_ms: gapMs,
      },
      keep,
    );
  });
  const message = describeChange(row, rtsp, rtmp, mode, gapMs, overlapMs, req, willSwitch);
  ctx.log(id, 'info', message);
  ctx.bus.emit('relay.urls.changed', {
    id,
    source: req.source,
    rtspUrl: maskUrl(rtsp),
    rtmpUrl: maskUrl(rtmp),
    mode,
    gapMs,
  });
  if (!row && next.enabled === 1) await startCreated(ctx, next, info);
  return { validated: true, errors: [], changed: true, switched: mode !== null, mode, gapMs, message };
}

function newRow(id: string, rtsp: string, rtmp: string, enabled: boolean): RelayStreamRow {
  const now = new Date().toISOString();
  return {
    id,
    name: id,
    rtsp_url: rtsp,
    rtmp_url: rtmp,
    preset: 'auto',
    ffmpeg_params: null,
    auto_restart: 1,
    enabled: enabled ? 1 : 0,
    status: 'stopped',
    last_update_at: null,
    created_at: now,
    updated_at: now,
  };
}

async function startCreated(ctx: RelayContext, row: RelayStreamRow, info: SourceInfo | null): Promise<void> {
  try {
    ctx.job(row.id).start(ctx.plan(row, info));
    ctx.log(row.id, 'info', 'stream created and started');
  } catch (err) {
    ctx.log(row.id, 'error', `cannot start: ${(err as Error).message}`);
  }
}

function saveTimestamp(ctx: RelayContext, row: RelayStreamRow, ms: number): void {
  ctx.store.relayStreams.update({ ...row, last_update_at: new Date(ms).toISOString() });
}

function describeChange(
  row: RelayStreamRow | undefined,
  rtsp: string,
  rtmp: string,
  mode: SwitchMode | null,
  gapMs: number | null,
  overlapMs: number | null,
  req: UrlChangeRequest,
  willSwitch: boolean,
): string {
  const parts: string[] = [];
  if (!row || rtsp !== row.rtsp_url)
    parts.push(`rtsp_url ${row ? `${maskUrl(row.rtsp_url)} -> ` : ''}${maskUrl(rtsp)}${hidden(row?.rtsp_url, rtsp)}`);
  if (!row || rtmp !== row.rtmp_url)
    parts.push(`rtmp_url ${row ? `${maskUrl(row.rtmp_url)} -> ` : ''}${maskUrl(rtmp)}${hidden(row?.rtmp_url, rtmp)}`);
  const head = `URLs changed by ${req.source}${req.eventId ? ` (event ${req.eventId})` : ''}: ${parts.join(', ')}`;
  const gap = gapMs === null ? 'unknown (no output yet)' : `${gapMs} ms`;
  if (mode === 'restart') return `${head}; switched by fast restart, output gap ${gap}`;
  if (mode === 'make-before-break')
    return `${head}; switched make-before-break, output gap 0 ms (both jobs produced for ${overlapMs} ms)`;
  if (!willSwitch && row?.enabled === 1 && !req.restart) return `${head}; no restart asked: applies at the next start`;
  return `${head}; not running: applies at the next start`;
}

/** Says so when a change is only in masked parts (the two masked URLs look the same). */
function hidden(old: string | undefined, now: string): string {
  return old !== undefined && old !== now && maskUrl(old) === maskUrl(now) ? ' (a masked part changed)' : '';
}
