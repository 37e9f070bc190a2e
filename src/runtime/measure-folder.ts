/**
 * Adds up the sizes of the files under a folder a step writes to, without
 * following symlinks: the outputs folder while the step runs, to stop a
 * step that writes past its limit before it fills the worker's disk.
 * Bounded: it stops counting after `maxEntries` entries (the answer is then
 * a lower bound, enough to compare against a limit).
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function measureFolder(
  root: string,
  options: { maxEntries?: number; stopAbove?: number } = {},
): Promise<number> {
  const maxEntries = options.maxEntries ?? 100_000;
  const stopAbove = options.stopAbove ?? Number.POSITIVE_INFINITY;
  let total = 0;
  let entries = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    const children = await readdir(dir, { withFileTypes: true }).catch(
      () => [],
    );
    for (const child of children) {
      entries += 1;
      if (entries > maxEntries) return total;
      const path = join(dir, child.name);
      if (child.isDirectory()) {
        pending.push(path);
      } else if (child.isFile()) {
        total += (await lstat(path).catch(() => null))?.size ?? 0;
        if (total > stopAbove) return total;
      }
    }
  }
  return total;
}
