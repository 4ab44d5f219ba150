/** Where the compiled preload lives at run time (next to main.js, in or out of app.asar). */
import { join } from 'node:path';

/** Absolute path of dist/main/preload/preload.js (CommonJS, see main/preload/preload.ts). */
export const PRELOAD_PATH = join(import.meta.dirname, 'preload', 'preload.js');
