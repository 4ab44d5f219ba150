/**
 * Operator actions on relay streams: create, change, delete, start/stop/restart. Everything is checked before
 * anything is written (URLs, ffmpeg_params, preset), and every action on a stream runs after the earlier ones.
 */
import { RELAY_PRESETS, type RelayPreset, type RelayStreamView } from '../defs/relay.js';
import type { RelayStreamRow } from '../store/repos/relay-streams.js';
import { RelayError } from './context.js';
import type { RelayController } from './controller.js';
import { parseFfmpegParams } from './ffmpeg-params.js';
import { changeUrls, type UrlChangeResult } from './url-change.js';
import { checkUrl, unmaskUrl } from './urls.js';

/** A new stream. */
export interface StreamInput {
  id: string;
  name?: string;
  rtspUrl: string;
  rtmpUrl: string;
  preset?: RelayPreset;
  ffmpegParams?: string | null;
  autoRestart?: boolean;
  /** Start it now (and at every start of the node). Default true. */
  enabled?: boolean;
}

/** A change; URL changes switch a running job (source `manual`). */
export interface StreamPatch {
  name?: string;
  rtspUrl?: string;
  rtmpUrl?: string;
  preset?: RelayPreset;
  ffmpegParams?: string | null;
  autoRestart?: boolean;
  /** Probe a new source first (default relay.probeBeforeSwitch). */
  probe?: boolean;
}

/** start, stop or restart a stream's job. */
export type ControlAction = 'start' | 'stop' | 'restart';

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function checkFields(p: { name?: string; preset?: string; ffmpegParams?: string | null }): string[] {
  const errors: string[] = [];
  if (p.name !== undefined && (p.name.length < 1 || p.name.length > 128))
    errors.push('name: expected 1-128 characters');
  if (p.preset !== undefined && !RELAY_PRESETS.includes(p.preset as RelayPreset))
    errors.push(`preset: expected one of ${RELAY_PRESETS.join(', ')}`);
  if (p.ffmpegParams) {
    const parsed = parseFfmpegParams(p.ffmpegParams);
    if (!parsed.ok) errors.push(...parsed.errors);
  }
  return errors;
}

function invalid(errors: string[]): RelayError {
  const field = /^(\w+)(?=:)/.exec(errors[0] ?? '')?.[1];
  return new RelayError('invalid', errors, field);
}

function must(relay: RelayController, id: string): RelayStreamRow {
  const row = relay.ctx.store.relayStreams.get(id);
  if (!row) throw new RelayError('not_found', [`no relay stream ${id}`]);
  return row;
}

/** Creates a stream (and starts it unless `enabled: false`). */
export async function createStream(relay: RelayController, input: StreamInput): Promise<RelayStreamView> {
  const errors = ID.test(input.id) ? [] : ['id: expected 1-64 of a-z, 0-9, "-", "_", starting with a letter or digit'];
  for (const [kind, url] of [
    ['rtsp_url', input.rtspUrl],
    ['rtmp_url', input.rtmpUrl],
  ] as const) {
    // A new stream has no stored secrets for a `***` to stand for.
    const masked = unmaskUrl(kind, url, null).errors;
    errors.push(...(masked.length ? masked : checkUrl(kind, url)));
  }
  errors.push(...checkFields(input));
  if (errors.length) throw invalid(errors);
  return relay.serial(input.id, async () => {
    if (relay.ctx.store.relayStreams.get(input.id)) throw new RelayError('exists', [`relay stream ${input.id} exists`]);
    const row: RelayStreamRow = {
      id: input.id,
      name: input.name ?? input.id,
      rtsp_url: input.rtspUrl,
      rtmp_url: input.rtmpUrl,
      preset: input.preset ?? 'auto',
      ffmpeg_params: input.ffmpegParams || null,
      auto_restart: input.autoRestart === false ? 0 : 1,
      enabled: input.enabled === false ? 0 : 1,
      status: 'stopped',
      last_update_at: null,
      created_at: '',
      updated_at: '',
    };
    relay.ctx.store.relayStreams.insert(row);
    relay.log(row.id, 'info', 'stream created');
    // Created even when it cannot start now (no ffmpeg): the reason is in its log, start retries later.
    if (row.enabled)
      await relay
        .startJob(relay.ctx.store.relayStreams.get(row.id)!)
        .catch((err: Error) => relay.log(row.id, 'error', `cannot start: ${err.message}`));
    return relay.view(row.id)!;
  });
}

/** Changes a stream; a running job is switched (URLs) or restarted (encoding) to apply it. */
export async function updateStream(
  relay: RelayController,
  id: string,
  patch: StreamPatch,
): Promise<{ stream: RelayStreamView; change: UrlChangeResult | null }> {
  const errors = checkFields(patch);
  if (patch.rtspUrl !== undefined) errors.push(...checkUrl('rtsp_url', patch.rtspUrl));
  if (patch.rtmpUrl !== undefined) errors.push(...checkUrl('rtmp_url', patch.rtmpUrl));
  if (errors.length) throw invalid(errors);
  must(relay, id);
  let change: UrlChangeResult | null = null;
  if (patch.rtspUrl !== undefined || patch.rtmpUrl !== undefined) {
    change = await changeUrls(relay.ctx, {
      streamId: id,
      rtspUrl: patch.rtspUrl,
      rtmpUrl: patch.rtmpUrl,
      restart: true,
      probe: patch.probe,
      source: 'manual',
    });
    if (change.errors.length) throw invalid(change.errors);
  }
  await relay.serial(id, async () => {
    const row = must(relay, id);
    const next: RelayStreamRow = {
      ...row,
      name: patch.name ?? row.name,
      preset: patch.preset ?? row.preset,
      ffmpeg_params: patch.ffmpegParams === undefined ? row.ffmpeg_params : patch.ffmpegParams || null,
      auto_restart: patch.autoRestart === undefined ? row.auto_restart : patch.autoRestart ? 1 : 0,
    };
    const argvChanged =
      next.preset !== row.preset || next.ffmpeg_params !== row.ffmpeg_params || next.auto_restart !== row.auto_restart;
    relay.ctx.store.relayStreams.update(next);
    if (argvChanged && relay.job(id).active) await restartJob(relay, next, 'settings changed');
  });
  return { stream: relay.view(id)!, change };
}

/** Stops and deletes a stream (its logs and history stay until retention removes them). */
export async function deleteStream(relay: RelayController, id: string): Promise<void> {
  await relay.serial(id, async () => {
    must(relay, id);
    await relay.job(id).stop('deleted');
    relay.ctx.store.relayStreams.delete(id);
    relay.log(id, 'info', 'stream deleted');
    relay.dropJob(id);
  });
}

/** start / stop / restart; start and stop are remembered across node restarts. */
export async function controlStream(relay: RelayController, id: string, action: ControlAction): Promise<void> {
  await relay.serial(id, async () => {
    const row = must(relay, id);
    const enabled = action === 'stop' ? 0 : 1;
    if (row.enabled !== enabled) relay.ctx.store.relayStreams.update({ ...row, enabled });
    const job = relay.job(id);
    if (action === 'stop') {
      if (job.active) relay.log(id, 'info', 'stopped by request');
      return job.stop('stopped by request');
    }
    if (action === 'restart' && job.active) return restartJob(relay, row, 'restart requested');
    await relay.startJob({ ...row, enabled });
  });
}

async function restartJob(relay: RelayController, row: RelayStreamRow, why: string): Promise<void> {
  const probe = await relay.probe(row.rtsp_url);
  const result = await relay
    .job(row.id)
    .restart(relay.plan(row, probe.ok ? probe.info : null), relay.ctx.config().switchTimeoutMs);
  const gap = result.ok && result.gapMs !== null ? `${result.gapMs} ms` : 'unknown (no output yet)';
  relay.log(row.id, 'info', `${why}: restarted, output gap ${gap}`);
}
