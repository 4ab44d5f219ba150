/** Config errors that name the field and the rule, e.g. `api.port: expected integer 1-65535, got "abc"`. */
import type { z } from 'zod';

/** One problem with one field. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** Thrown by loading or applying config; the CLI prints `problems` and exits with code 2. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], context?: string) {
    const lines = problems.map((p) => `${p.field}: ${p.message}`);
    super(`${context ? `${context}: ` : ''}${lines.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** True for a secret field and for anything inside one (`rtsp.users.0.password` is inside `rtsp.users`). */
function isSecret(field: string, secretPaths: ReadonlySet<string>): boolean {
  for (const path of secretPaths) if (field === path || field.startsWith(`${path}.`)) return true;
  return false;
}

/** Turns zod issues (parsed with `reportInput: true`) into one problem per field. */
export function problemsFromZod(error: z.ZodError, secretPaths: ReadonlySet<string>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
      continue;
    }
    const field = base || '(root)';
    const got = isSecret(field, secretPaths) ? '' : `, got ${show(issue.input)}`;
    const msg = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : `${issue.message}${got}`;
    out.push({ field, message: msg });
  }
  return out;
}
