/**
 * Redirects node-media-server's singleton logger (console.log, debug level by default) to our pino logger while an
 * ingest runs. Messages are scrubbed first: NMS interpolates peer-supplied names into its messages, and a name
 * that fails its character check is printed whole, `?key=...` included.
 */
import type { Logger } from '../../log/logger.js';
import { nmsLogger } from './nms.js';

const QUERY = /\?[^\s,;]*/g;
const SECRET_PARAM = /\b(key|sign|token|secret|pass(?:word)?|auth)=[^\s&,;]*/gi;

/** Removes query strings and secret-looking `name=value` pairs from a message. */
export function scrubNmsMessage(message: string): string {
  return message.replace(QUERY, '?[query]').replace(SECRET_PARAM, '$1=[redacted]');
}

/** Installs the redirect; returns the function that restores NMS's own `log`. */
export function redirectNmsLogger(log: Logger): () => void {
  const child = log.child({ source: 'nms' });
  const original = nmsLogger.log;
  nmsLogger.log = (message: unknown, level = 'info') => {
    const msg = scrubNmsMessage(String(message));
    // NMS "error"s are mostly a peer's fault (bad stream name, parser error): warn, not error. Its "info" is per
    // session chatter; our own module logs the events that matter at info.
    if (level === 'error' || level === 'warn') child.warn(msg);
    else if (level === 'info' || level === 'debug') child.debug(msg);
    else child.trace(msg);
  };
  return () => {
    nmsLogger.log = original;
  };
}
