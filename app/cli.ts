#!/usr/bin/env node
/** `cupola serve | demo | config check|print|schema | version`. Exit codes: 0 ok, 1 runtime failure, 2 bad config, 3 start-up failure. */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ConfigError } from './config/errors.js';
import { configJsonSchema } from './config/fields.js';
import { loadConfig, readConfigFile, validateConfig, type LoadOptions } from './config/load.js';
import { redactConfig } from './config/redact.js';
import { demoOptions } from './demo/options.js';
import { StoreError } from './store/database.js';
import { VERSION } from './version.js';

const USAGE = `usage:
  cupola serve [--role slave|compressor|master|all] [--config FILE] [--data-dir DIR] [--name N] [--site S] [--set path=value ...]
  cupola demo [--cameras N] [--sites N] [--port N]
  cupola config check FILE
  cupola config print [--config FILE] [--data-dir DIR] [--set path=value ...]
  cupola config schema
  cupola version`;

const OPTIONS = {
  role: { type: 'string' },
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  name: { type: 'string' },
  site: { type: 'string' },
  port: { type: 'string' },
  cameras: { type: 'string' },
  sites: { type: 'string' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Turns CLI flags into dotted config paths; `--set a.b=c` for anything without its own flag. */
export function flagsToConfig(values: {
  role?: string;
  'data-dir'?: string;
  name?: string;
  site?: string;
  set?: string[];
}): Record<string, string> {
  const flags: Record<string, string> = {};
  if (values.role !== undefined) flags['node.role'] = values.role;
  if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
  if (values.name !== undefined) flags['node.name'] = values.name;
  if (values.site !== undefined) flags['node.site'] = values.site;
  for (const item of values.set ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError([{ field: item, message: 'expected --set path=value' }]);
    flags[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return flags;
}

function fail(err: unknown): number {
  if (err instanceof ConfigError) {
    for (const p of err.problems) process.stderr.write(`config error: ${p.field}: ${p.message}\n`);
    return 2;
  }
  if (err instanceof StoreError) {
    process.stderr.write(`start-up error: ${err.message}\n`);
    return 3;
  }
  const msg = (err as Error).message ?? String(err);
  if (/already in use/.test(msg)) {
    process.stderr.write(`start-up error: ${msg}\n`);
    return 3;
  }
  process.stderr.write(`error: ${msg}\n`);
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const load: LoadOptions = { env: process.env, flags: flagsToConfig(values) };
  if (values.config) load.file = values.config;
  switch (command) {
    case 'version':
      process.stdout.write(`cupola ${VERSION}\n`);
      return 0;
    // The server modules load only when needed, so `version` and `config` stay quick.
    case 'serve':
      return (await import('./serve.js')).serve(loadConfig(load));
    case 'demo':
      return (await import('./demo.js')).runDemo(demoOptions(values));
    case 'config':
      if (sub === 'check') {
        if (!arg) throw new ConfigError([{ field: '(file)', message: 'usage: cupola config check FILE' }]);
        validateConfig(readConfigFile(arg), arg);
        process.stdout.write(`${arg}: ok\n`);
        return 0;
      }
      if (sub === 'print') {
        process.stdout.write(stringify(redactConfig(loadConfig(load).config)));
        return 0;
      }
      if (sub === 'schema') {
        process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
        return 0;
      }
      break;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = fail(err);
  },
);
