/**
 * A lock file created with O_EXCL, so only one process at a time starts the
 * private redis-server. A lock left by a dead process is taken over.
 */
import { readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrivateRedisError } from './private-redis-error.js';

export interface StartLockOptions {
  timeoutMs: number;
  /** Checked while waiting; `true` ends the wait without the lock. */
  poll(): Promise<boolean>;
}

/** Resolves a release function; when `poll` ends the wait, a no-op one. */
export async function acquireStartLock(
  dir: string,
  options: StartLockOptions,
): Promise<() => Promise<void>> {
  const path = join(dir, 'start.lock');
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await options.poll()) return async () => undefined;
    if (!holderAlive(path)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new PrivateRedisError(
        'LOCK_TIMEOUT',
        `another kiln process is starting the private redis-server (${path}); wait for it, or delete that file if no kiln is running`,
      );
    }
    await sleep(100);
  }
}

function holderAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    // Gone already, or just created and not yet written: retry soon.
    return true;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
