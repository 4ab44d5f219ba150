/** Runtime config changes: clone, validate, diff, persist; the core decides what to restart. */
import { configFields, findField, getPath, setPath } from './fields.js';
import { ConfigError } from './errors.js';
import { diffConfig } from './diff.js';
import { applyOverrides, validateConfig, type LoadedConfig } from './load.js';
import { persistConfigChanges } from './persist.js';
import type { Config } from './schema.js';

/** A change that validated and was persisted. */
export interface ConfigChange {
  changed: string[];
  /** Changed fields that only take effect after a process restart. */
  restartRequired: string[];
  /** The new config with restart-only fields kept at their running values. */
  next: Config;
}

/** Thrown when a change touches a field pinned by the environment or a flag. */
export class PinnedFieldError extends Error {
  constructor(
    readonly field: string,
    readonly source: string,
  ) {
    super(
      `${field} is set by ${source === 'env' ? 'the environment' : 'a command-line flag'} and cannot be changed at run time`,
    );
  }
}

/** Flattens `{ api: { port: 1 } }` into `{ 'api.port': 1 }`; arrays and unknown shapes are leaves. */
export function flattenPatch(patch: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !findField(path)) {
      Object.assign(out, flattenPatch(value as Record<string, unknown>, path));
    } else out[path] = value;
  }
  return out;
}

/** Holds the loaded config and turns patches into validated, persisted changes. */
export class ConfigService {
  constructor(private readonly loaded: LoadedConfig) {}

  /** The running config. */
  get config(): Config {
    return this.loaded.config;
  }

  /** Fields set by env/flags and their source. */
  pinned(): Record<string, string> {
    return Object.fromEntries(this.loaded.pinned);
  }

  /** Validates and persists a patch (nested or dotted keys; null resets a field to its default). */
  change(patch: Record<string, unknown>): ConfigChange {
    const flat = flattenPatch(patch);
    const unknown = Object.keys(flat).filter((p) => !findField(p));
    if (unknown.length) throw new ConfigError(unknown.map((field) => ({ field, message: 'unknown field' })));
    for (const path of Object.keys(flat)) {
      const source = this.loaded.pinned.get(path);
      if (source) throw new PinnedFieldError(path, source);
    }
    const fileValues = structuredClone(this.loaded.fileValues);
    for (const [path, value] of Object.entries(flat)) setPath(fileValues, path, value === null ? undefined : value);
    const candidate = validateConfig(applyOverrides(fileValues, this.loaded.overrides));
    candidate.dataDir = this.loaded.config.dataDir;
    const changed = diffConfig(this.loaded.config, candidate);
    const restartOnly = new Set(
      configFields()
        .filter((f) => f.requiresRestart)
        .map((f) => f.path),
    );
    const restartRequired = changed.filter((p) => restartOnly.has(p));
    for (const path of restartRequired)
      setPath(candidate as unknown as Record<string, unknown>, path, getPath(this.loaded.config, path));
    if (Object.keys(flat).length) {
      persistConfigChanges(
        this.loaded.file,
        Object.fromEntries(Object.entries(flat).map(([p, v]) => [p, v === null ? undefined : v])),
      );
    }
    this.loaded.fileValues = fileValues;
    return { changed, restartRequired, next: candidate };
  }

  /** Copies `next` into the running config section by section, so components holding a section see new values. */
  commit(next: Config): void {
    const cur = this.loaded.config as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(next)) {
      const section = cur[key];
      if (section && typeof section === 'object' && !Array.isArray(section) && value && typeof value === 'object') {
        for (const k of Object.keys(section)) if (!(k in value)) delete (section as Record<string, unknown>)[k];
        Object.assign(section, value);
      } else cur[key] = value;
    }
  }
}
