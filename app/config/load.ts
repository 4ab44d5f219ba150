/** Loads the effective config: defaults → YAML file → CUPOLA_* environment → CLI flags, then validates. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, problemsFromZod } from './errors.js';
import { coerce, configFields, findField, setPath } from './fields.js';
import { configSchema, defaultDataDir, type Config } from './schema.js';

/** Where a field's value came from. */
export type Source = 'default' | 'file' | 'env' | 'flag';

/** Inputs of loadConfig. */
export interface LoadOptions {
  /** An explicit config file (`--config`); it must exist. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** CLI flags as dotted path → raw string (`--set api.port=9000`, `--role slave` → `node.role`). */
  flags?: Record<string, string>;
}

/** The effective config and how it was made. */
export interface LoadedConfig {
  config: Config;
  /** The YAML file runtime changes are persisted to (`--config`, else `<dataDir>/cupola.yaml`). */
  file: string;
  /** What the file held (raw, before env and flags), the base for runtime changes. */
  fileValues: Record<string, unknown>;
  /** Fields set by the environment or flags: runtime changes to them are refused because they would not stick. */
  pinned: Map<string, Source>;
  /** The env and flag values by path (re-applied over the file when config changes at run time). */
  overrides: Map<string, unknown>;
}

/** Name of the config file kept in the data dir when no `--config` is given. */
export const DATA_DIR_CONFIG = 'cupola.yaml';

/** Parses a YAML config file into a plain object; syntax errors name the line. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { field: '(file)', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` },
    ]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ field: '(file)', message: `${path}: ${e.message.split('\n')[0]}` })),
    );
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([{ field: '(file)', message: `${path}: expected a mapping at the top level` }]);
  }
  return value as Record<string, unknown>;
}

/** Collects env and flag overrides as dotted paths; unknown flag paths are errors, unknown CUPOLA_* vars are ignored. */
function overrides(
  env: NodeJS.ProcessEnv,
  flags: Record<string, string>,
): { values: Map<string, unknown>; pinned: Map<string, Source> } {
  const values = new Map<string, unknown>();
  const pinned = new Map<string, Source>();
  for (const field of configFields()) {
    const raw = env[field.env];
    if (raw !== undefined) {
      values.set(field.path, coerce(field, raw));
      pinned.set(field.path, 'env');
    }
  }
  const unknown: string[] = [];
  for (const [path, raw] of Object.entries(flags)) {
    const field = findField(path);
    if (!field) {
      unknown.push(path);
      continue;
    }
    values.set(path, coerce(field, raw));
    pinned.set(path, 'flag');
  }
  if (unknown.length)
    throw new ConfigError(unknown.map((p) => ({ field: p, message: 'unknown field (from a command-line flag)' })));
  return { values, pinned };
}

/** Validates a raw object against the schema; throws ConfigError naming each field. */
export function validateConfig(raw: unknown, context?: string): Config {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const secrets = new Set(
    configFields()
      .filter((f) => f.secret)
      .map((f) => f.path),
  );
  throw new ConfigError(problemsFromZod(result.error, secrets), context);
}

/** Merges overrides into a deep copy of the file values. */
export function applyOverrides(
  fileValues: Record<string, unknown>,
  values: Map<string, unknown>,
): Record<string, unknown> {
  const merged = structuredClone(fileValues);
  for (const [path, value] of values) setPath(merged, path, value);
  return merged;
}

/** Loads and validates the effective config. Throws ConfigError on any problem. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const { values, pinned } = overrides(env, opts.flags ?? {});
  let file: string;
  let fileValues: Record<string, unknown> = {};
  if (opts.file) {
    file = resolve(opts.file);
    if (!existsSync(file)) throw new ConfigError([{ field: '(file)', message: `config file ${file} does not exist` }]);
    fileValues = readConfigFile(file);
  } else {
    // The data dir may itself come from env or flags; its cupola.yaml holds changes made at run time.
    const dataDir = (values.get('dataDir') as string | undefined) ?? defaultDataDir();
    file = join(resolve(String(dataDir)), DATA_DIR_CONFIG);
    if (existsSync(file)) fileValues = readConfigFile(file);
  }
  const config = validateConfig(applyOverrides(fileValues, values), opts.file ? file : undefined);
  config.dataDir = resolve(config.dataDir);
  return { config, file, fileValues, pinned, overrides: values };
}
