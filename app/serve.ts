/** `cupola serve`: runs one core until SIGINT/SIGTERM, then stops it within 5 s. */
import { createCore } from './core.js';
import type { LoadedConfig } from './config/load.js';

/** How long a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5000;

/** Starts the core, prints the one-time admin password if one was generated, and waits for a signal. */
export async function serve(loaded: LoadedConfig): Promise<number> {
  const core = createCore(loaded);
  await core.start();
  const password = core.takeGeneratedPassword();
  if (password) {
    // Printed once to the terminal, never to the log file; only its scrypt hash is stored.
    process.stdout.write(`\n  Cupola admin password (shown once): ${password}\n  Dashboard: ${core.url}/\n\n`);
  }
  process.on('uncaughtException', (err) => {
    core.log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        core.log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      signalled = true;
      const deadline = setTimeout(() => {
        core.log.error('graceful stop took longer than 5 s; exiting');
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      void core.stop(`signal ${signal}`).then(() => {
        clearTimeout(deadline);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(0);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
