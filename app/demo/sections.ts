/**
 * The config the demo gives each node: the light demo preset of the compressor, the peers of the compressor and the
 * master, and the master's health timing.
 */

/**
 * The demo's transcoding preset: the cameras' 640x360 brought down to 426x240 at their 15 fps, x264 `ultrafast`,
 * 1 s GOP (the master's HLS previews cut 1 s segments), audio copied. About a twentieth of a core per camera here;
 * see app/demo/README.md for the measured total.
 */
export const DEMO_PRESET = {
  height: 240,
  fps: 15,
  bitrateKbps: 300,
  maxrateKbps: 450,
  bufsizeKbps: 600,
  gopSeconds: 1,
  speed: 'ultrafast',
} as const;

/** The preset's name in the compressor's config. */
export const DEMO_PRESET_NAME = 'demo-240p';

/** A slave as its peers see it: API URL, a token of that slave for this peer, its name and site. */
export interface SlaveRef {
  name: string;
  site: string;
  url: string;
  token: string;
}

/** The compressor's file config: the demo preset, no hardware probe (its trial encodes cost start-up time). */
export function compressorFileConfig(): Record<string, unknown> {
  return {
    compressor: {
      presets: { [DEMO_PRESET_NAME]: DEMO_PRESET },
      defaultPreset: DEMO_PRESET_NAME,
      hardware: 'off',
    },
  };
}

/** PATCH of the compressor once the slaves have given it tokens. */
export function compressorSlaves(slaves: SlaveRef[]): Record<string, unknown> {
  return { compressor: { slaves: slaves.map((s) => ({ name: s.name, url: s.url, token: s.token })) } };
}

/** The master's file config: every slave (as its site) and the compressor, health checked every second. */
export function masterFileConfig(
  slaves: SlaveRef[],
  compressor: { name: string; url: string; token: string },
): Record<string, unknown> {
  return {
    master: {
      slaves: slaves.map((s) => ({ name: s.name, site: s.site, url: s.url, token: s.token })),
      compressors: [compressor],
      healthIntervalS: 1,
      peerDownAfterS: 3,
    },
  };
}
