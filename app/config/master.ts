/**
 * The `master` section of the config schema: the slaves whose streams the master relays (and watches), the
 * compressors it watches, and how often. Part of schema.ts; it imports nothing from it, because schema.ts imports
 * this file.
 */
import { z } from 'zod';
import { uniqueOrigins } from './compressor.js';

const NAME_RULE = 'expected 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit';
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const TOKEN_RULE = 'expected an API token of that node (cpt_…)';

const name = (what: string) =>
  z.string({ error: NAME_RULE }).regex(NAME_PATTERN, { error: NAME_RULE }).meta({ description: what });

const peer = (what: string) => ({
  url: z.url({ protocol: /^https?$/, error: `expected the http(s) URL of a ${what}, such as http://10.0.0.5:8080` }),
  token: z.string({ error: TOKEN_RULE }).regex(/^cpt_[0-9a-f]{12}_[\w-]{16,}$/, { error: TOKEN_RULE }),
  name: name(`Label of the ${what} in logs and the UI.`).optional(),
});

const slave = z.strictObject({
  ...peer('slave'),
  site: name(
    "Site of its cameras on this master (`<site>/<camera>`); defaults to the slave's own node.site.",
  ).optional(),
});

function seconds(def: number, min: number, max: number, description: string) {
  const rule = `expected integer seconds ${min}-${max}`;
  return z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule }).default(def).meta({ description });
}

/** The `master` section. */
export const masterSchema = z
  .strictObject({
    slaves: z.array(slave).default([]).meta({
      description:
        'Slaves whose cameras this master relays (F1 over RTMP and RTSP, F2 over RTSP, as <site>/<camera>) and whose health it shows: { url, token, name?, site? }; token is an API token of that slave.',
      secret: true,
    }),
    compressors: z
      .array(z.strictObject(peer('compressor')))
      .default([])
      .meta({
        description: 'Compressors whose health this master shows: { url, token, name? }.',
        secret: true,
      }),
    healthIntervalS: seconds(2, 1, 60, 'Seconds between two health checks of each peer.'),
    peerDownAfterS: seconds(
      4,
      1,
      300,
      'A peer that has not answered for this long is shown down (at once when its port refuses the connection).',
    ),
  })
  .superRefine((m, ctx) => {
    uniqueOrigins(m.slaves, 'slaves', ctx);
    uniqueOrigins(m.compressors, 'compressors', ctx);
    const sites = new Map<string, number>();
    m.slaves.forEach((s, i) => {
      const site = s.site;
      if (site === undefined) return;
      if (sites.has(site))
        ctx.addIssue({ code: 'custom', path: ['slaves', i, 'site'], message: 'expected each site once', input: site });
      sites.set(site, i);
    });
  })
  .prefault({});

/** The validated `master` section. */
export type MasterConfig = z.infer<typeof masterSchema>;
