/**
 * The seed's `url_update` message: `{ rtsp_url, rtmp_url, timestamp, restart_required, stream_id? }` as the JSON
 * data of an SSE event named `url_update` (or of a default `message` event with `type: "url_update"`). Parsing only;
 * what an update does is decided by the controller.
 */
import { z } from 'zod';

/** A parsed url_update. `timestampMs` is epoch milliseconds. */
export interface UrlUpdate {
  streamId: string | null;
  rtspUrl: string | null;
  rtmpUrl: string | null;
  timestampMs: number;
  restartRequired: boolean;
}

const optionalUrl = z.string().max(4096).nullable().optional();
const body = z.looseObject({
  type: z.string().optional(),
  stream_id: z
    .union([z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a stream id (a-z, 0-9, "-", "_")'), z.null()])
    .optional(),
  rtsp_url: optionalUrl,
  rtmp_url: optionalUrl,
  timestamp: z.union([z.string().max(64), z.number()]),
  restart_required: z.boolean().optional(),
});

/** Epoch ms of an ISO 8601 string or an epoch number (seconds below 10^11, else milliseconds); null if neither. */
export function parseTimestamp(value: string | number): number | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    return value < 1e11 ? Math.round(value * 1000) : Math.round(value);
  }
  if (/^\d+(\.\d+)?$/.test(value)) return parseTimestamp(Number(value));
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** True when an SSE event of this type with this data is meant as a url_update. */
export function isUrlUpdate(type: string, data: string): boolean {
  if (type === 'url_update') return true;
  return type === 'message' && /"type"\s*:\s*"url_update"/.test(data.slice(0, 4096));
}

/** Parses the event data; the error names the field. */
export function parseUrlUpdate(data: string): { ok: true; update: UrlUpdate } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, error: 'data is not JSON' };
  }
  const parsed = body.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, error: `${issue.path.join('.') || 'data'}: ${issue.message}` };
  }
  const b = parsed.data;
  const timestampMs = parseTimestamp(b.timestamp);
  if (timestampMs === null) return { ok: false, error: 'timestamp: expected ISO 8601 or epoch seconds/milliseconds' };
  if (!b.rtsp_url && !b.rtmp_url) return { ok: false, error: 'expected rtsp_url, rtmp_url or both' };
  return {
    ok: true,
    update: {
      streamId: b.stream_id ?? null,
      rtspUrl: b.rtsp_url || null,
      rtmpUrl: b.rtmp_url || null,
      timestampMs,
      restartRequired: b.restart_required ?? true,
    },
  };
}
