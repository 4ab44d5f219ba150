/** The flags of `cupola demo`, checked: errors name the flag (exit code 2, like a config error). */
import { ConfigError } from '../config/errors.js';
import { MAX_CAMERAS, MAX_SITES } from './plan.js';

/** `cupola demo` flags: 4 cameras over 2 sites unless told otherwise; the dashboard on 8080 when free. */
export function demoOptions(values: { cameras?: string; sites?: string; port?: string }): {
  cameras: number;
  sites: number;
  port?: number;
} {
  const int = (flag: string, raw: string | undefined, def: number | undefined, min: number, max: number) => {
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max)
      throw new ConfigError([{ field: `--${flag}`, message: `expected an integer ${min}-${max}, got "${raw}"` }]);
    return n;
  };
  const port = int('port', values.port, undefined, 0, 65535);
  return {
    cameras: int('cameras', values.cameras, 4, 1, MAX_CAMERAS)!,
    sites: int('sites', values.sites, 2, 1, MAX_SITES)!,
    ...(port === undefined ? {} : { port }),
  };
}
