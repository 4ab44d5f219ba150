/**
 * A compressor's jobs and encoders: /api/v1/jobs (list, one, restart, change preset) and /api/v1/encoders (the
 * start-up probe); its slave links are in /api/v1/peers (peers.ts). Reading needs any token; restarting and changing
 * presets need the admin.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobView } from '../../defs/job.js';
import type { SlavePeerState } from '../../defs/peer.js';
import type { EncoderReport } from '../../ffmpeg/encoders.js';
import { requireAdmin } from '../auth-hook.js';
import { ApiError } from '../errors.js';
import type { ConfigControl } from './config.js';

/** What the routes need from the compressor role. */
export interface JobsApi {
  jobs(): JobView[];
  job(id: string): JobView | undefined;
  restart(id: string): Promise<boolean>;
  encoderReport(): EncoderReport | null;
  /** The links to its slaves (served by peers.ts). */
  peers(): SlavePeerState[];
}

/** What the routes are built from. */
export interface JobRouteDeps {
  compressor: JobsApi;
  config: ConfigControl;
  /** Preset names of the current config. */
  presets: () => string[];
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const jobParams = z.object({
  slave: z.string().regex(/^[\w.:[\]-]{1,128}$/, 'expected a slave name'),
  camera: z.string().regex(NAME, 'expected a camera id'),
});

/** Registers the routes. */
export function jobRoutes(d: JobRouteDeps): FastifyPluginAsyncZod {
  const find = (p: { slave: string; camera: string }): JobView => {
    const job = d.compressor.job(`${p.slave}/${p.camera}`);
    if (!job) throw new ApiError(404, 'not_found', `no job for camera ${p.camera} of slave ${p.slave}`);
    return job;
  };
  return async (app) => {
    app.get('/jobs', { schema: { tags: ['jobs'], summary: 'Transcoding jobs of this compressor' } }, async () => ({
      jobs: d.compressor.jobs(),
    }));
    app.get(
      '/jobs/:slave/:camera',
      { schema: { tags: ['jobs'], summary: 'One transcoding job', params: jobParams } },
      async (req) => ({ job: find(req.params) }),
    );
    app.post(
      '/jobs/:slave/:camera/restart',
      { schema: { tags: ['jobs'], summary: "Restart a job's ffmpeg", params: jobParams } },
      async (req, reply) => {
        requireAdmin(req);
        const job = find(req.params);
        if (!(await d.compressor.restart(job.id))) {
          throw new ApiError(409, 'not_running', `job ${job.id} is ${job.state}: nothing to restart`);
        }
        return reply.code(202).send({ job: d.compressor.job(job.id) });
      },
    );
    app.patch(
      '/jobs/:slave/:camera',
      {
        schema: {
          tags: ['jobs'],
          summary: "Change a camera's preset (saved as compressor.cameraPresets.<camera>)",
          params: jobParams,
          body: z.object({ preset: z.string().min(1).max(64) }),
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        find(req.params);
        const { preset } = req.body;
        if (!d.presets().includes(preset)) {
          const known = d.presets().join(', ');
          throw new ApiError(400, 'invalid_request', `preset: expected one of ${known}, got "${preset}"`, 'preset');
        }
        const { after } = await d.config.apply({ compressor: { cameraPresets: { [req.params.camera]: preset } } });
        await after();
        return reply.send({ job: find(req.params) });
      },
    );
    app.get('/encoders', { schema: { tags: ['jobs'], summary: 'Encoders found at start-up' } }, async () => ({
      encoders: d.compressor.encoderReport(),
    }));
  };
}
