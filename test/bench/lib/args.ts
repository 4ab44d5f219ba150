/** Command-line options of the media benchmarks: `--name value` pairs of positive numbers. */

/** Reads `--name N` from argv (or `--name=N`); the default when absent; exits 2 on a bad value. */
export function numberOption(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) raw = argv[i + 1];
    else if (argv[i]!.startsWith(`--${name}=`)) raw = argv[i]!.slice(name.length + 3);
  }
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`bench: --${name} expects a positive number, got ${raw}\n`);
    process.exit(2);
  }
  return value;
}

/** The steps of a ramp (e.g. 5, 10, 20, 40 …) up to `max`, with `max` itself as the last step. */
export function ramp(steps: number[], max: number): number[] {
  const out = steps.filter((n) => n < max);
  out.push(max);
  return out;
}
