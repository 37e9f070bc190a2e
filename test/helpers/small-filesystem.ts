/**
 * A real, small file system for tests of what happens when a disk fills
 * up: a tmpfs of a fixed size mounted on a fresh directory. Mounting needs
 * root (CI runs as root); elsewhere the tests that need it are skipped,
 * and with CI=true a missing capability is a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireService } from './services.js';

export interface SmallFilesystem {
  /** The mounted directory. */
  path: string;
  /** Unmounts and removes the directory (idempotent). */
  close(): void;
}

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'kiln-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], {
      stdio: 'ignore',
    });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

export function haveSmallFilesystems(): boolean {
  return requireService(
    'tmpfs mounts',
    canMount(),
    'run the tests as root (they mount small tmpfs file systems to fill them up)',
  );
}

/** Mounts a tmpfs of `megabytes` at `path` (created), or at a new temp dir. */
export function mountSmallFilesystem(options: {
  megabytes: number;
  path?: string;
}): SmallFilesystem {
  const path = options.path ?? mkdtempSync(join(tmpdir(), 'kiln-small-fs-'));
  mkdirSync(path, { recursive: true });
  execFileSync('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${options.megabytes}m`,
    'tmpfs',
    path,
  ]);
  let mounted = true;
  return {
    path,
    close() {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', ['-l', path], { stdio: 'ignore' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
