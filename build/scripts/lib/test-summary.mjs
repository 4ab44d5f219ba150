// Pure parts of build/scripts/run-tests.mjs: reading node:test's summaries, the tier table, the closing line.

/** The tiers in the order they run. */
export const TIERS = ['static', 'unit', 'integration', 'e2e', 'cluster'];

/**
 * Counts from the closing summary of node:test's TAP (`# pass N`) or spec (`ℹ pass N`) output. Cancelled tests count
 * as failed (a timed-out file is reported as cancelled), todo as skipped. Returns null when there is no summary.
 */
export function parseSummary(text) {
  const counts = {};
  for (const match of text.matchAll(/^(?:# |\u2139 )(tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  if (counts.pass === undefined || counts.fail === undefined) return null;
  return {
    passed: counts.pass,
    failed: counts.fail + (counts.cancelled ?? 0),
    skipped: (counts.skipped ?? 0) + (counts.todo ?? 0),
  };
}

/** Sum of tier results. */
export function totals(results) {
  return results.reduce(
    (sum, result) => ({
      passed: sum.passed + result.passed,
      failed: sum.failed + result.failed,
      skipped: sum.skipped + result.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}

/** The line the CI reads: it must stay the last line printed. */
export function closingLine({ passed, failed, skipped }) {
  return `tests: ${passed} passed, ${failed} failed, ${skipped} skipped`;
}

/** A plain-text table of tier results ({ tier, status, passed, failed, skipped, seconds, note }). */
export function formatTable(results) {
  const header = ['tier', 'status', 'passed', 'failed', 'skipped', 'time', 'note'];
  const rows = results.map((r) => [
    r.tier,
    r.status,
    String(r.passed),
    String(r.failed),
    String(r.skipped),
    `${r.seconds.toFixed(1)} s`,
    r.note ?? '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => (i >= 2 && i <= 5 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Splits command-line arguments into tiers and test files/folders; unknown tiers throw. */
export function selectTiers(args) {
  const tiers = [];
  const paths = [];
  for (const arg of args) {
    if (TIERS.includes(arg)) tiers.push(arg);
    else if (arg.includes('/') || arg.endsWith('.ts')) paths.push(arg);
    else throw new Error(`unknown tier ${arg} (expected ${TIERS.join(', ')} or test file paths)`);
  }
  // `integration test/integration/x.test.ts` reads as "just that file" but would run the whole tier first.
  if (tiers.length > 0 && paths.length > 0) {
    throw new Error(`give tiers or test file paths, not both (${tiers.join(', ')} would run the whole tier)`);
  }
  return {
    tiers: paths.length > 0 ? [] : tiers.length > 0 ? TIERS.filter((t) => tiers.includes(t)) : [...TIERS],
    paths,
  };
}

/** The tier of a test file path such as test/unit/x.test.ts, or null. */
export function tierOf(path) {
  const match = /(?:^|\/)test\/([^/]+)\//.exec(path.replaceAll('\\', '/'));
  return match && TIERS.includes(match[1]) ? match[1] : null;
}
