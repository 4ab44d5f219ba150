/** Types of test-summary.mjs, for the tooling tests. */

/** Passed, failed and skipped counts. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** One row of the tier table. */
export interface TierResult extends Counts {
  tier: string;
  status: string;
  seconds: number;
  note?: string;
}

/** The tiers in the order they run. */
export const TIERS: string[];
/** Counts from node:test's closing TAP or spec summary, or null. */
export function parseSummary(text: string): Counts | null;
/** Sum of tier results. */
export function totals(results: Counts[]): Counts;
/** The closing line the CI reads. */
export function closingLine(counts: Counts): string;
/** A plain-text table of tier results. */
export function formatTable(results: TierResult[]): string;
/** Splits arguments into tiers and test paths. */
export function selectTiers(args: string[]): { tiers: string[]; paths: string[] };
/** The tier of a test file path, or null. */
export function tierOf(path: string): string | null;
