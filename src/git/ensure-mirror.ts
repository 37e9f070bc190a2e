import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGit } from './create-git.js';
import { GitError } from './git-error.js';
import { removeTree } from './tree-files.js';

// Written into the mirror's own config file rather than passed as `-c`: the
// mirror is kiln's, and simple-git rightly refuses argv that sets these keys.
// No hooks run, no ext:: transport, and every fetched object is checked so a
// malformed tree (duplicate or `..` entries) never reaches `tar -x`.
const hardenedConfig = `[core]
\thooksPath = /dev/null
\tfsmonitor = false
[protocol "ext"]
\tallow = never
[transfer]
\tfsckObjects = true
[gc]
\tautoDetach = false
`;

// `export-ignore`/`export-subst` in a repo's .gitattributes would make
// `git archive` drop or rewrite files; info/attributes wins over them.
const exportAttributes = '* -export-ignore -export-subst\n';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure a hardened bare repository exists at `mirrorDir`. Built in a
 * temp folder and renamed into place, so a crash never leaves a mirror
 * without its config. Idempotent; callers serialise per mirror.
 */
export async function ensureMirror(mirrorDir: string): Promise<void> {
  if (await exists(join(mirrorDir, 'HEAD'))) return;
  const parent = join(mirrorDir, '..');
  await mkdir(parent, { recursive: true });
  const temp = join(parent, `.tmp-${randomBytes(6).toString('hex')}`);
  await mkdir(temp);
  try {
    await createGit({ cwd: temp, timeoutMs: 30_000 }).init(true);
    await appendFile(join(temp, 'config'), hardenedConfig);
    await mkdir(join(temp, 'info'), { recursive: true });
    await writeFile(join(temp, 'info', 'attributes'), exportAttributes);
    await rename(temp, mirrorDir);
  } catch (error) {
    await removeTree(temp);
    // Another process sharing the cache may have won the race: its mirror
    // is as good as ours.
    if (await exists(join(mirrorDir, 'HEAD'))) return;
    throw new GitError(
      'GIT_FAILED',
      `could not create the git mirror in ${mirrorDir}: ${String(error)}; check that the cache directory is writable and has free space`,
      { cause: error },
    );
  }
}
