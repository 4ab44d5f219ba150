/** One core per data dir: a lock file holding the owner's pid, taken over only when that pid is gone. */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './database.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Holds `<dataDir>/cupola.lock` from acquire() to release(). */
export class DataDirLock {
  private held = false;

  constructor(private readonly dataDir: string) {}

  private get file(): string {
    return join(this.dataDir, 'cupola.lock');
  }

  /** Takes the lock; throws StoreError('locked') when another live process holds it. */
  acquire(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.file, 'wx', 0o644);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StoreError('read-only', `cannot create ${this.file}: ${(err as NodeJS.ErrnoException).code}`);
        }
        const owner = Number(readFileSync(this.file, 'utf8').trim());
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
          throw new StoreError('locked', `data dir ${this.dataDir} is in use by another Cupola (pid ${owner})`);
        }
        // The previous owner died without releasing (kill -9, power loss): take over.
        rmSync(this.file, { force: true });
      }
    }
    throw new StoreError('locked', `could not take ${this.file}`);
  }

  /** Releases the lock if held. */
  release(): void {
    if (this.held) rmSync(this.file, { force: true });
    this.held = false;
  }
}
