/** Types of bootstrap-lib.mjs, for the tooling tests (tsconfig.test.json does not check JS). */

/** A lockfile or npm's hidden lockfile, as far as the comparison reads it. */
export interface LockfileLike {
  packages?: Record<string, { [key: string]: unknown; version?: string; integrity?: string; optional?: boolean }>;
}

/** The stamp a build target writes after a successful build. */
export interface BuildStamp {
  startedAt: number;
  fingerprint?: string;
}

/** What scanInputs found. */
export interface InputScan {
  fingerprint: string;
  newestMtimeMs: number;
  newestPath: string | null;
  count: number;
}

/** The major version of a Node version string such as `v20.20.2`. */
export function nodeMajor(version?: string): number;
/** The value of node_modules/.cupola-bootstrap for a lockfile's text and a Node version. */
export function depsStamp(lockText: string, version?: string): string;
/** The first difference between the lockfile and the installed tree, or null when they agree. */
export function installedTreeDiff(
  lock: LockfileLike | null,
  hidden: LockfileLike | null,
  exists?: (path: string) => boolean,
): string | null;
/** Stats every file and folder below the inputs: newest mtime and a fingerprint of (path, size, mtime). */
export function scanInputs(paths: string[], root?: string): InputScan;
/** The newest mtime among the given files and folders (walked recursively). */
export function newestMtime(paths: string[], root?: string): { mtimeMs: number; path: string | null };
/** Whether a build target must run, and why. */
export function buildDecision(input: { stamp: BuildStamp | null; inputs: InputScan; outputsExist: boolean }): {
  build: boolean;
  why: string;
};
/** Debian packages by the tool or GStreamer element they provide. */
export const DEBIAN_PACKAGES: Record<string, string>;
/** Font files of the demo's camera overlay; one must exist (else `dejavu-font` is missing). */
export const FONT_FILES: string[];
/** What must be on the machine: programs on PATH and GStreamer elements. */
export function requiredTools(forTests: boolean): { programs: string[]; elements: string[] };
/** The sorted, de-duplicated Debian packages that provide the missing tools. */
export function packagesFor(missing: string[]): string[];
/** The command a person should run to install packages. */
export function installCommand(packages: string[], asRoot: boolean): string;
/** The bootstrap's command line. */
export function parseArgs(argv: string[]): { forTests: boolean; buildOnly: boolean; quiet: boolean };
