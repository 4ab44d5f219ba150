/** The one place the shell touches the core: load config, create, start, stop. Everything else sees CoreHandle. */
import { loadConfig } from '../app/config/load.js';
import { createCore } from '../app/core.js';
import { loopbackUrl } from './security.js';

/** A running in-process core as the shell sees it. */
export interface CoreHandle {
  /** Loopback origin of the API and UI, e.g. http://127.0.0.1:8080 (never a wildcard address). */
  readonly url: string;
  /** Admin password generated on first start, to show once; null when one was configured or already set. */
  readonly generatedPassword: string | null;
  /** Stops every component and waits for sockets and child processes to be gone; safe to call twice. */
  stop(reason: string): Promise<void>;
}

/** Where the config comes from: the environment (CUPOLA_*), plus an optional `--data-dir` given to the app. */
export interface CoreHostOptions {
  env: NodeJS.ProcessEnv;
  dataDir?: string;
}

/** Loads the config and starts a core inside this process; throws (ConfigError, EADDRINUSE, …) if it cannot start. */
export async function startCore(options: CoreHostOptions): Promise<CoreHandle> {
  const loaded = loadConfig({ env: options.env, flags: options.dataDir ? { dataDir: options.dataDir } : {} });
  const core = createCore(loaded);
  await core.start();
  return {
    url: loopbackUrl(core.url),
    generatedPassword: core.takeGeneratedPassword(),
    stop: (reason) => core.stop(reason),
  };
}
