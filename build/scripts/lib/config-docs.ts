/** The config reference in README.md, generated from the zod schema (app/config/schema.ts). */
import { readFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { envName } from '../../../app/config/fields.js';
import { configSchema } from '../../../app/config/schema.js';

/** The markers around the generated block in README.md. */
export const START_MARKER = '<!-- config:start -->';
export const END_MARKER = '<!-- config:end -->';

/** Defaults computed on the machine at start-up, shown as what they mean rather than as this machine's value. */
const MACHINE_DEFAULTS: Record<string, string> = {
  'node.name': 'host name',
  dataDir: '`$XDG_DATA_HOME/cupola` (`~/.local/share/cupola`)',
};

/** One documented config field. */
export interface ConfigRow {
  path: string;
  envVar: string;
  type: string;
  default: string;
  requiresRestart: boolean;
  secret: boolean;
  description: string;
}

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  default?: unknown;
  description?: string;
  requiresRestart?: boolean;
  secret?: boolean;
}

/** `api.port` → `CUPOLA_API_PORT`: the name the config loader reads (app/config/fields.ts). */
export const envVarName = envName;

function describeType(node: JsonSchemaNode): string {
  if (node.enum) return `one of ${node.enum.map((value) => `\`${String(value)}\``).join(', ')}`;
  if (node.type === 'array')
    return `list of ${node.items?.format === 'uri' ? 'URLs' : `${node.items?.type ?? 'value'}s`}`;
  if (node.type === 'integer' || node.type === 'number') {
    // z.int() bounds itself to safe integers: those bounds say nothing.
    const min = node.minimum !== undefined && node.minimum > Number.MIN_SAFE_INTEGER ? node.minimum : undefined;
    const max = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
    if (min !== undefined && max !== undefined) return `${node.type} ${min}–${max}`;
    if (min !== undefined) return `${node.type} ≥ ${min}`;
    if (max !== undefined) return `${node.type} ≤ ${max}`;
    return node.type;
  }
  if (node.type === 'string') {
    if (node.format === 'uri') return 'URL';
    if (node.pattern) return 'name (a-z, 0-9, `-`, `_`)';
    return 'string';
  }
  return node.type ?? 'any';
}

function describeDefault(path: string, node: JsonSchemaNode): string {
  const machine = MACHINE_DEFAULTS[path];
  if (machine) return machine;
  if (node.default === undefined) return '—';
  const text = JSON.stringify(node.default);
  // A default that holds this machine's name or home would make the docs differ from machine to machine.
  if (text.includes(homedir()) || (hostname().length > 3 && text.includes(hostname().toLowerCase()))) {
    throw new Error(`the default of ${path} depends on this machine (${text}): add it to MACHINE_DEFAULTS`);
  }
  return `\`${text}\``;
}

function collect(node: JsonSchemaNode, prefix: string, rows: ConfigRow[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.type === 'object' && child.properties) {
      collect(child, path, rows);
      continue;
    }
    rows.push({
      path,
      envVar: envVarName(path),
      type: describeType(child),
      default: describeDefault(path, child),
      requiresRestart: child.requiresRestart === true,
      secret: child.secret === true,
      description: child.description ?? '',
    });
  }
}

/** The documented fields, in schema order. */
export function configRows(): ConfigRow[] {
  const schema = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode;
  const rows: ConfigRow[] = [];
  collect(schema, '', rows);
  return rows;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The generated block (markers included), formatted as prettier formats README.md. */
export async function renderConfigBlock(readmePath: string): Promise<string> {
  const header = '| Path | Env var | Type | Default | Restart | Description |\n| --- | --- | --- | --- | --- | --- |';
  const lines = configRows().map((row) => {
    const description = row.secret ? `${row.description} Secret: never logged or returned.` : row.description;
    const cells = [`\`${row.path}\``, `\`${row.envVar}\``, row.type, row.default, row.requiresRestart ? 'yes' : 'no'];
    return `| ${[...cells, description].map(cell).join(' | ')} |`;
  });
  const note =
    '<!-- Generated from app/config/schema.ts by `npm run docs:config`; edit the schema, not this table. -->';
  const options = (await resolveConfig(readmePath)) ?? {};
  const table = await format(`${header}\n${lines.join('\n')}\n`, { ...options, parser: 'markdown' });
  return `${START_MARKER}\n${note}\n\n${table.trimEnd()}\n\n${END_MARKER}`;
}

/** README text with the block between the markers replaced, or null when the markers are missing. */
export function replaceBlock(readme: string, block: string): string | null {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) return null;
  return readme.slice(0, start) + block + readme.slice(end + END_MARKER.length);
}

/** The README as it should be: { current, wanted } (wanted null when README has no markers). */
export async function readmeState(readmePath: string): Promise<{ current: string; wanted: string | null }> {
  const current = await readFile(readmePath, 'utf8');
  return { current, wanted: replaceBlock(current, await renderConfigBlock(readmePath)) };
}
