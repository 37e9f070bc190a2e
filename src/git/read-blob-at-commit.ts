import { createGit } from './create-git.js';
import { GitError } from './git-error.js';

export interface ReadBlobAtCommitOptions {
  mirrorDir: string;
  /** Validated commit or tree id present in the mirror. */
  sha: string;
  /** Checked repository path. */
  path: string;
  maxBytes: number;
  timeoutMs: number;
}

const regularFileModes = new Set(['100644', '100755']);

/**
 * Reads one regular file at a commit without a checkout. `ls-tree -l` gives
 * type and size in one call, so a blob above `maxBytes` is refused unread.
 * Null for a missing path, a directory, a symlink or a submodule.
 */
export async function readBlobAtCommit(
  options: ReadBlobAtCommitOptions,
): Promise<Buffer | null> {
  const { mirrorDir, sha, path, maxBytes, timeoutMs } = options;
  const listing = await createGit({ cwd: mirrorDir, timeoutMs }).raw([
    'ls-tree',
    '-l',
    '-z',
    '--full-tree',
    sha,
    '--',
    path,
  ]);
  const entry = listing
    .split('\0')
    .map((line) => /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t(.*)$/s.exec(line))
    .find((match) => match?.[5] === path);
  if (!entry) return null;
  const [, mode = '', , blobId = '', size = '0'] = entry;
  if (!regularFileModes.has(mode)) return null;
  if (Number(size) > maxBytes) {
    throw new GitError(
      'FILE_TOO_LARGE',
      `${path} at ${sha} is ${size} bytes, more than the ${maxBytes} allowed; make the file smaller`,
    );
  }
  const content: Buffer = await createGit({
    cwd: mirrorDir,
    timeoutMs,
  }).binaryCatFile(['blob', blobId]);
  return content;
}
