import { execFile } from 'node:child_process';
import { chmod, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createGit } from './create-git.js';
import { GitError } from './git-error.js';

const execFileAsync = promisify(execFile);

export interface ExportTreeOptions {
  mirrorDir: string;
  /** Validated commit or tree id present in the mirror. */
  sha: string;
  /** Empty directory that receives the files. */
  targetDir: string;
  /** Where the intermediate tar goes (deleted afterwards). */
  tarPath: string;
  timeoutMs: number;
}

/**
 * Writes the files of `sha` into `targetDir` with `git archive` + `tar -x`
 * and makes them read-only. Archive rather than checkout: no `.git` in the
 * step's tree, no smudge/filter drivers, no hooks, and it accepts tree ids.
 * The tar goes to a file because simple-git buffers a command's whole output.
 */
export async function exportTree(options: ExportTreeOptions): Promise<void> {
  const { mirrorDir, sha, targetDir, tarPath, timeoutMs } = options;
  try {
    // tar.umask 0222 writes every entry read-only into the archive, and tar
    // applies those modes after extracting (directories last), so no
    // chmod walk over thousands of files is needed afterwards.
    await createGit({ cwd: mirrorDir, timeoutMs }).raw([
      '-c',
      'tar.umask=0222',
      'archive',
      '--format=tar',
      `--output=${tarPath}`,
      sha,
    ]);
    // GNU tar refuses `..` and absolute member names by default; ownership
    // comes from the extracting user, never from the archive.
    await execFileAsync(
      'tar',
      [
        '-x',
        '--no-same-owner',
        '--same-permissions',
        '-f',
        tarPath,
        '-C',
        targetDir,
      ],
      { timeout: timeoutMs, maxBuffer: 1024 * 1024 },
    );
    await chmod(targetDir, 0o555);
  } catch (error) {
    throw new GitError(
      'EXPORT_FAILED',
      `could not write the files of ${sha} to ${targetDir}: ${String(error).slice(0, 500)}; check free disk space in the cache directory`,
      { cause: error },
    );
  } finally {
    await rm(tarPath, { force: true });
  }
}
