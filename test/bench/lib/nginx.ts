/**
 * The reference RTMP server of the media benchmarks: Debian's nginx with libnginx-mod-rtmp, run as a child of the
 * bench with its own config in a temp dir (daemon off, one process, `live on`), on a free loopback port.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, start, stop, type Started } from './proc.js';
import { sleep } from './proc-stats.js';

const NGINX = '/usr/sbin/nginx';
const MODULE_CONF = '/usr/share/nginx/modules-available/mod-rtmp.conf';
const MODULE_SO = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** The rtmp module's path as Debian's package declares it (its modules-available snippet), else the usual one. */
function modulePath(): string | undefined {
  if (existsSync(MODULE_CONF)) {
    const declared = /load_module\s+([^;\s]+)\s*;/.exec(readFileSync(MODULE_CONF, 'utf8'))?.[1];
    if (declared) {
      const path = declared.startsWith('/') ? declared : join('/usr/share/nginx', declared);
      if (existsSync(path)) return path;
    }
  }
  return existsSync(MODULE_SO) ? MODULE_SO : undefined;
}

/**
 * nginx and its rtmp module, installed with apt-get when missing and we are root (Debian's policy-rc.d, when present,
 * keeps the package from starting the system nginx). Throws a message that says what to install otherwise.
 */
export function ensureNginx(): { binary: string; module: string; version: string } {
  let module = modulePath();
  if (!existsSync(NGINX) || !module) {
    const how = 'apt-get install -y nginx libnginx-mod-rtmp';
    if (process.getuid?.() !== 0)
      throw new Error(`the reference needs nginx with the rtmp module: run \`sudo ${how}\``);
    process.stderr.write(`bench: installing the reference server: ${how}\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const args = ['install', '-y', '--no-install-recommends', 'nginx', 'libnginx-mod-rtmp'];
    let run = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    if (run.status !== 0) {
      spawnSync('apt-get', ['update'], { env, encoding: 'utf8' });
      run = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    }
    module = modulePath();
    if (run.status !== 0 || !existsSync(NGINX) || !module) {
      throw new Error(`\`${how}\` failed (${run.status ?? run.error?.message}): ${run.stderr?.slice(-1000) ?? ''}`);
    }
  }
  const version = /nginx\/(\S+)/.exec(spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr ?? '')?.[1] ?? '?';
  return { binary: NGINX, module, version };
}

/** A running nginx-rtmp. */
export interface Nginx {
  started: Started;
  pid: number;
  port: number;
  version: string;
  /** `rtmp://127.0.0.1:<port>/live/<name>`. */
  url(name: string): string;
  /** Errors nginx logged (its error_log in the temp dir). */
  errors(): string;
  /** Stops it (SIGTERM = fast shutdown) and waits. */
  stop(): Promise<void>;
}

/** Starts nginx-rtmp with `application live { live on; }` in `dir` and waits until it accepts connections. */
export async function startNginx(dir: string): Promise<Nginx> {
  const { binary, module, version } = ensureNginx();
  const port = await freePort();
  const errorLog = join(dir, 'nginx-error.log');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `load_module ${module};`,
      'daemon off;',
      // One process doing the work, like Cupola's single-threaded media plane (nginx-rtmp's live module shares
      // streams between workers only through auto_push, so one worker is also how it is usually run).
      'master_process off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 8192; }',
      'rtmp {',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    chunk_size 4096;',
      '    ping 0;',
      '    application live { live on; record off; }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const started = start(binary, ['-p', dir, '-c', conf, '-e', errorLog]);
  const deadline = Date.now() + 10_000;
  let exited = false;
  void started.exited.then(() => (exited = true));
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      await stop(started, 1000);
      const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '';
      throw new Error(`nginx did not start on port ${port}:\n${started.tail()}\n${log}`);
    }
    await sleep(50);
  }
  return {
    started,
    pid: started.child.pid!,
    port,
    version,
    url: (name) => `rtmp://127.0.0.1:${port}/live/${name}`,
    errors: () =>
      existsSync(errorLog)
        ? readFileSync(errorLog, 'utf8')
            .split('\n')
            .filter((l) => /\[(error|crit|alert|emerg)\]/.test(l))
            .join('\n')
        : '',
    stop: async () => void (await stop(started, 5000)),
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
