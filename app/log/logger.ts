/** Structured logs (pino) to stdout and to a size-rotated file in the data dir, with secrets redacted. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { RotatingFile } from './rotating-file.js';

export type { Logger };

/** Paths redacted wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'adminPassword',
  '*.adminPassword',
  'token',
  '*.token',
  'refreshToken',
  '*.refreshToken',
  'accessToken',
  '*.accessToken',
  'key',
  '*.key',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Options of the core's logger. */
export interface LoggerOptions {
  level: LevelWithSilent;
  /** Directory of the rotated log file; no file when undefined. */
  dir?: string;
  fileMaxBytes?: number;
  fileCount?: number;
  /** Also write to stdout (default true). */
  stdout?: boolean;
}

/** A logger and the function that closes its file. */
export interface LoggerHandle {
  log: Logger;
  close(): Promise<void>;
}

/** Creates the logger; the file stream is synchronous-ish and owned by the handle (no worker threads). */
export function createLogger(opts: LoggerOptions): LoggerHandle {
  const streams: pino.StreamEntry[] = [];
  if (opts.stdout !== false)
    streams.push({ stream: pino.destination({ fd: 1, sync: true }), level: opts.level as pino.Level });
  let file: RotatingFile | undefined;
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    file = new RotatingFile(join(opts.dir, 'cupola.log'), opts.fileMaxBytes ?? 10 * 1024 * 1024, opts.fileCount ?? 5);
    streams.push({ stream: file, level: opts.level as pino.Level });
  }
  const log = pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(streams),
  );
  return {
    log,
    close: async () => {
      await file?.close();
    },
  };
}

/** A logger that writes nothing, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
