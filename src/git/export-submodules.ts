import { chmod } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { createGit } from './create-git.js';
import { exportTree } from './export-tree.js';
import { GitError } from './git-error.js';
import { isObjectId } from './object-id.js';
import { checkRepoPath } from './repo-path.js';
import { checkRepositorySource } from './repository-source.js';
import type { CheckedSource } from './repository-source.js';

export interface ExportSubmodulesOptions {
  parent: CheckedSource;
  mirrorDir: string;
  sha: string;
  /** The parent's extracted (read-only) tree. */
  targetDir: string;
  /** Fetches `sha` into the mirror of `source` and returns that mirror. */
  ensure: (source: CheckedSource, sha: string) => Promise<string>;
  timeoutMs: number;
  /** Scratch file for each submodule's archive (outside any tree). */
  tarPath: string;
  /** Nesting left; a repository's own submodules count as depth 1. */
  depth: number;
}

const maxSubmodules = 100;

/** Git resolves a relative submodule url against the superproject's url. */
function resolveSubmoduleUrl(parent: CheckedSource, url: string): string {
  if (!url.startsWith('./') && !url.startsWith('../')) return url;
  if (parent.protocol === 'file' && isAbsolute(parent.url)) {
    return resolve(parent.url, url);
  }
  const base = parent.url.endsWith('/') ? parent.url : `${parent.url}/`;
  return new URL(url, base).href;
}

async function readGitlinks(
  mirrorDir: string,
  sha: string,
  timeoutMs: number,
): Promise<Map<string, string>> {
  const listing = await createGit({ cwd: mirrorDir, timeoutMs }).raw([
    'ls-tree',
    '-r',
    '-z',
    '--full-tree',
    sha,
  ]);
  const links = new Map<string, string>();
  for (const line of listing.split('\0')) {
    const match = /^160000 commit ([0-9a-f]+)\t(.+)$/s.exec(line);
    if (match?.[1] && match[2]) links.set(match[2], match[1]);
  }
  return links;
}

async function readSubmoduleUrls(
  mirrorDir: string,
  sha: string,
  timeoutMs: number,
): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await createGit({ cwd: mirrorDir, timeoutMs }).raw([
      'config',
      '--blob',
      `${sha}:.gitmodules`,
      '-z',
      '--list',
    ]);
  } catch {
    return new Map();
  }
  const paths = new Map<string, string>();
  const urls = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const match = /^submodule\.(.+)\.(path|url)\n(.*)$/s.exec(entry);
    if (!match?.[1] || match[3] === undefined) continue;
    (match[2] === 'path' ? paths : urls).set(match[1], match[3]);
  }
  const byPath = new Map<string, string>();
  for (const [name, path] of paths) {
    const url = urls.get(name);
    if (url !== undefined) byPath.set(path, url);
  }
  return byPath;
}

/**
 * Fills the gitlinks of an exported tree with their commits, recursively up
 * to `depth`. Submodule urls come from the repository, so they are checked
 * like any source and may not switch transport (a repo fetched over https
 * cannot make kiln read `file://` paths on the worker); the token is only
 * passed to submodules on the same origin.
 */
export async function exportSubmodules(
  options: ExportSubmodulesOptions,
): Promise<void> {
  const { parent, mirrorDir, sha, targetDir, timeoutMs } = options;
  const links = await readGitlinks(mirrorDir, sha, timeoutMs);
  if (links.size === 0) return;
  if (options.depth <= 0 || links.size > maxSubmodules) {
    throw new GitError(
      'EXPORT_FAILED',
      `submodules of ${parent.id} nest too deep or are too many (at most ${maxSubmodules}); vendor them instead`,
    );
  }
  const urls = await readSubmoduleUrls(mirrorDir, sha, timeoutMs);
  for (const [path, commit] of links) {
    checkRepoPath(path);
    const url = urls.get(path);
    if (url === undefined || !isObjectId(commit)) {
      throw new GitError(
        'EXPORT_FAILED',
        `submodule ${path} of ${parent.id} has no url in .gitmodules at ${sha}; fix .gitmodules`,
      );
    }
    const resolved = resolveSubmoduleUrl(parent, url);
    const candidate = checkRepositorySource({
      id: `${parent.id}//${path}`,
      url: resolved,
    });
    if (candidate.protocol !== parent.protocol) {
      throw new GitError(
        'INVALID_SOURCE',
        `submodule ${path} uses ${candidate.protocol} but ${parent.id} uses ${parent.protocol}; kiln only follows submodules over the same transport`,
      );
    }
    const sameOrigin =
      candidate.origin !== null && candidate.origin === parent.origin;
    const source: CheckedSource = {
      ...candidate,
      token: sameOrigin ? parent.token : undefined,
    };
    const subMirror = await options.ensure(source, commit);
    const subDir = join(targetDir, path);
    // The parent tree is already read-only; open just this directory.
    await chmod(subDir, 0o755);
    await exportTree({
      mirrorDir: subMirror,
      sha: commit,
      targetDir: subDir,
      tarPath: options.tarPath,
      timeoutMs,
    });
    await exportSubmodules({
      ...options,
      parent: source,
      mirrorDir: subMirror,
      sha: commit,
      targetDir: subDir,
      depth: options.depth - 1,
    });
  }
}
