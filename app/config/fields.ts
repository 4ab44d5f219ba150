/** The leaves of the config schema, derived from its JSON Schema: path, env var name, type, default, metadata. */
import { z } from 'zod';
import { configSchema } from './schema.js';

/** One leaf field of the configuration. */
export interface FieldInfo {
  path: string;
  env: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'enum';
  description: string;
  default: unknown;
  requiresRestart: boolean;
  secret: boolean;
  enum?: string[];
}

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  enum?: string[];
  description?: string;
  default?: unknown;
  requiresRestart?: boolean;
  secret?: boolean;
}

/** The JSON Schema of the config file (what the settings page renders). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input' }) as Record<string, unknown>;
}

/** `rtsp.f1Port` → `CUPOLA_RTSP_F1_PORT`. */
export function envName(path: string): string {
  const parts = path.split('.').map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  return `CUPOLA_${parts.join('_')}`;
}

let cached: FieldInfo[] | undefined;

/** Every leaf of the schema, in schema order. */
export function configFields(): FieldInfo[] {
  if (cached) return cached;
  const out: FieldInfo[] = [];
  const walk = (node: JsonSchemaNode, prefix: string): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (child.type === 'object' && child.properties) {
        walk(child, path);
        continue;
      }
      out.push({
        path,
        env: envName(path),
        type: child.enum ? 'enum' : ((child.type ?? 'string') as FieldInfo['type']),
        description: child.description ?? '',
        default: child.default,
        requiresRestart: child.requiresRestart === true,
        secret: child.secret === true,
        ...(child.enum ? { enum: child.enum } : {}),
      });
    }
  };
  walk(configJsonSchema() as JsonSchemaNode, '');
  cached = out;
  return out;
}

/** The field at `path`, or undefined. */
export function findField(path: string): FieldInfo | undefined {
  return configFields().find((f) => f.path === path);
}

/** Reads a dotted path from a nested object. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Writes a dotted path into a nested object, creating intermediate objects. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

/**
 * Turns a string from the environment or a flag into the leaf's type. A value that does not convert is passed
 * through unchanged so that validation reports it with the field's own rule (`got "abc"`).
 */
export function coerce(field: FieldInfo, raw: string): unknown {
  const s = raw.trim();
  switch (field.type) {
    case 'integer':
    case 'number':
      return s !== '' && Number.isFinite(Number(s)) ? Number(s) : raw;
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(s)) return true;
      if (/^(false|0|no|off)$/i.test(s)) return false;
      return raw;
    case 'array':
      if (s.startsWith('[')) {
        try {
          return JSON.parse(s) as unknown;
        } catch {
          return raw;
        }
      }
      return s === '' ? [] : s.split(',').map((x) => x.trim());
    default:
      return raw;
  }
}
