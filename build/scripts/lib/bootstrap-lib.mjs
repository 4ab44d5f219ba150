// Pure decisions of the bootstrap (build/scripts/bootstrap.mjs): dependency stamps, build staleness,
// which system packages provide which tools. Plain JS with node builtins only: it runs before node_modules exists.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The major version of a Node version string such as `v20.20.2`. */
export function nodeMajor(version = process.version) {
  const match = /^v?(\d+)\./.exec(version);
  if (!match) throw new Error(`cannot read the major version of node ${version}`);
  return Number(match[1]);
}

/** The value of node_modules/.cupola-bootstrap for a lockfile's text and a Node version. */
export function depsStamp(lockText, version = process.version) {
  const hash = createHash('sha256').update(lockText).digest('hex');
  return `lock-sha256=${hash} node=${nodeMajor(version)}\n`;
}

/**
 * Whether an installed tree (npm's hidden lockfile node_modules/.package-lock.json) holds exactly the packages of
 * package-lock.json: same versions, nothing extra; a package may be absent only when it is optional (npm skips an
 * optional dependency whose install fails, such as ffmpeg-static without network). With `exists` (path → boolean),
 * also checks that each package's package.json is on disk, since the hidden lockfile can outlive an interrupted
 * install. Returns the first difference, or null.
 */
export function installedTreeDiff(lock, hidden, exists) {
  const want = lock?.packages ?? {};
  const have = hidden?.packages ?? {};
  for (const [path, entry] of Object.entries(want)) {
    if (path === '' || !path.includes('node_modules/')) continue;
    const got = have[path];
    if (!got) {
      if (entry.optional) continue;
      return `${path} is not installed`;
    }
    if (entry.link !== got.link) return `${path} is a link in one tree only`;
    if (entry.version !== got.version) return `${path} is ${got.version}, the lockfile wants ${entry.version}`;
    if (entry.integrity && got.integrity && entry.integrity !== got.integrity) return `${path} has another integrity`;
    if (exists && !entry.link && !exists(`${path}/package.json`)) return `${path} is recorded but not on disk`;
  }
  for (const path of Object.keys(have)) {
    if (path.includes('node_modules/') && !(path in want)) return `${path} is installed but not in the lockfile`;
  }
  return null;
}

const WALK_SKIP = new Set(['node_modules', '.git', 'dist', 'release']);

/**
 * Stats every file and folder below the given inputs (missing paths are ignored; node_modules, .git, dist and
 * release are skipped). Returns the newest mtime and a fingerprint of every (path, size, mtime): a file that changes,
 * appears or disappears changes the fingerprint even when its mtime goes backwards (tar, cp -p, rsync -a).
 */
export function scanInputs(paths, root = process.cwd()) {
  const hash = createHash('sha256');
  let newest = { mtimeMs: 0, path: null };
  let count = 0;
  const visit = (path) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return;
    }
    count++;
    if (stat.mtimeMs > newest.mtimeMs) newest = { mtimeMs: stat.mtimeMs, path };
    if (!stat.isDirectory()) {
      hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
      return;
    }
    hash.update(`${path}/\n`);
    for (const name of readdirSync(path).sort()) {
      if (!WALK_SKIP.has(name)) visit(join(path, name));
    }
  };
  for (const path of paths) visit(join(root, path));
  return { fingerprint: hash.digest('hex'), newestMtimeMs: newest.mtimeMs, newestPath: newest.path, count };
}

/** The newest mtime (ms) among the given files and folders, walked recursively; { mtimeMs: 0, path: null } if none. */
export function newestMtime(paths, root = process.cwd()) {
  const scan = scanInputs(paths, root);
  return { mtimeMs: scan.newestMtimeMs, path: scan.newestPath };
}

/**
 * Whether a build target must run. `stamp` is what its last successful build recorded ({ startedAt, fingerprint })
 * or null; `inputs` the scan of its inputs now. Recording the scan taken before the build (not after it) catches a
 * file saved while the build ran.
 */
export function buildDecision({ stamp, inputs, outputsExist }) {
  if (!stamp || typeof stamp.startedAt !== 'number') return { build: true, why: 'never built' };
  if (!outputsExist) return { build: true, why: 'outputs missing' };
  if (inputs.newestMtimeMs > stamp.startedAt) return { build: true, why: 'inputs changed' };
  if (inputs.fingerprint !== stamp.fingerprint) return { build: true, why: 'inputs changed' };
  return { build: false, why: 'up to date' };
}

/** Debian packages by the tool or GStreamer element they provide. */
export const DEBIAN_PACKAGES = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  chromium: 'chromium',
  'gst-launch-1.0': 'gstreamer1.0-tools',
  'gst-inspect-1.0': 'gstreamer1.0-tools',
  rtspsrc: 'gstreamer1.0-plugins-good',
  rtph264depay: 'gstreamer1.0-plugins-good',
  h264parse: 'gstreamer1.0-plugins-bad',
  avdec_h264: 'gstreamer1.0-libav',
  rtspclientsink: 'gstreamer1.0-rtsp',
  'dejavu-font': 'fonts-dejavu-core',
};

/**
 * Font files the demo's synthetic cameras draw their name and clock with (app/demo/camera.ts lists the same); one
 * of them must exist, else `dejavu-font` is missing.
 */
export const FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
];

/** What must be on the machine: programs on PATH and GStreamer elements. */
export function requiredTools(forTests) {
  const programs = forTests
    ? ['ffmpeg', 'ffprobe', 'chromium', 'gst-launch-1.0', 'gst-inspect-1.0']
    : ['ffmpeg', 'ffprobe'];
  const elements = forTests ? ['rtspsrc', 'rtph264depay', 'h264parse', 'avdec_h264', 'rtspclientsink'] : [];
  return { programs, elements };
}

/** The sorted, de-duplicated Debian packages that provide the missing tools. */
export function packagesFor(missing) {
  const packages = new Set();
  for (const name of missing) {
    const pkg = DEBIAN_PACKAGES[name];
    if (!pkg) throw new Error(`no Debian package known for ${name}`);
    packages.add(pkg);
  }
  return [...packages].sort();
}

/** The command a person should run to install packages. */
export function installCommand(packages, asRoot) {
  const sudo = asRoot ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/** The bootstrap's command line: --for-tests, --build-only, --quiet. Throws on anything else. */
export function parseArgs(argv) {
  const options = { forTests: false, buildOnly: false, quiet: false };
  for (const arg of argv) {
    if (arg === '--for-tests') options.forTests = true;
    else if (arg === '--build-only') options.buildOnly = true;
    else if (arg === '--quiet' || arg === '-q') options.quiet = true;
    else throw new Error(`unknown argument ${arg} (expected --for-tests, --build-only, --quiet)`);
  }
  return options;
}
