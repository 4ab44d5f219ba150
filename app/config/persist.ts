/** Writes runtime config changes to the YAML file atomically, keeping the operator's comments and layout. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Document, parseDocument } from 'yaml';

/** Sets each dotted path to its value in `file` (created if missing) via write-to-temp + rename. */
export function persistConfigChanges(file: string, changes: Record<string, unknown>): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const doc = text.trim() === '' ? new Document({}) : parseDocument(text);
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    if (value === undefined) doc.deleteIn(keys);
    else doc.setIn(keys, value);
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // 0600: the file may hold auth.adminPassword.
  writeFileSync(tmp, doc.toString(), { mode: 0o600 });
  renameSync(tmp, file);
}
