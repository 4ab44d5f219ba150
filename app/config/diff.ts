/** Which leaf fields differ between two configs. */
import { isDeepStrictEqual } from 'node:util';
import { configFields, getPath } from './fields.js';
import type { Config } from './schema.js';

/** Dotted paths of the leaves whose values differ. */
export function diffConfig(a: Config, b: Config): string[] {
  return configFields()
    .map((f) => f.path)
    .filter((path) => !isDeepStrictEqual(getPath(a, path), getPath(b, path)));
}

/** True when a changed path belongs to a component that owns `prefixes` (`api` owns `api.port`). */
export function touches(changed: readonly string[], prefixes: readonly string[]): boolean {
  return changed.some((path) => prefixes.some((p) => path === p || path.startsWith(`${p}.`)));
}
