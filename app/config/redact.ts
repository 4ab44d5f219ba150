/** Copies of the config that are safe to print, log or return: secrets replaced by a marker. */
import { configFields, getPath, setPath } from './fields.js';
import type { Config } from './schema.js';

/** The marker that stands for a secret that is set. */
export const REDACTED = '[redacted]';

/** A deep copy of `config` with every secret field that is set replaced by REDACTED. */
export function redactConfig(config: Config): Record<string, unknown> {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const field of configFields()) {
    if (field.secret && getPath(copy, field.path) !== undefined) setPath(copy, field.path, REDACTED);
  }
  return copy;
}
