import { randomBytes } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureMirror } from './ensure-mirror.js';
import { exportSubmodules } from './export-submodules.js';
import { exportTree } from './export-tree.js';
import {
  fetchCommit,
  isOnBranchOrTag,
  readObjectType,
} from './fetch-commit.js';
import type { GitCredentials } from './git-credentials.js';
import { KeyedLock } from './keyed-lock.js';
import { listChangedPaths } from './list-changed-paths.js';
import { listRemoteRefs } from './list-remote-refs.js';
import { mergeBaseOf } from './merge-base.js';
import { assertObjectId, isZeroObjectId } from './object-id.js';
import { checkRepositorySource } from './repository-source.js';
import type { CheckedSource, RepositorySource } from './repository-source.js';
import { readBlobAtCommit } from './read-blob-at-commit.js';
import { checkRefName } from './ref-name.js';
import { checkRepoPath } from './repo-path.js';
import { describeCommits, type CommitInfo } from './describe-commits.js';
import {
  isDirectory,
  listNames,
  removeStaleTemps,
  removeTree,
} from './tree-files.js';

export type { RepositorySource } from './repository-source.js';
export type { GitCredentials } from './git-credentials.js';

/** A read-only tree of one commit, shared by everyone holding that SHA. */
export interface CommitTree {
  sha: string;
  /** Absolute path of a read-only tree of that commit (no `.git`). */
  path: string;
  /** Gives the tree back; the last release removes it. Idempotent. */
  release(): Promise<void>;
}

export interface GitMaterialiserOptions {
  /** Owned by this materialiser alone: mirrors/ and trees/ live here. */
  cacheDir: string;
  /** Limit for one `git fetch`. @defaultValue 300000 */
  fetchTimeoutMs?: number;
  /**
   * How long a git server may stay silent: no connection or TLS handshake
   * within it, or no byte of a transfer for that long, and the call fails
   * at once with SERVER_NOT_ANSWERING naming the repository (no retry
   * round of its own: the caller retries later). @defaultValue 30000
   */
  fetchStallMs?: number;
  /** Fetch rounds before COMMIT_NOT_FOUND/FETCH_FAILED. @defaultValue 3 */
  fetchAttempts?: number;
  /** First pause between fetch rounds, doubling. @defaultValue 500 */
  fetchRetryDelayMs?: number;
  /**
   * How long a tree nobody holds is kept for the next step on the same
   * commit (rebuilding costs an archive and an extract); 0 removes it at
   * the last release. @defaultValue 0
   */
  treeLingerMs?: number;
  /**
   * Tokens for https sources that carry none (GitHub App installation
   * tokens, KILN_GITHUB_TOKEN); asked before every fetch and ls-remote.
   * Without it, sources are fetched anonymously.
   */
  credentials?: GitCredentials;
}

/** A branch or tag on the server and the commit it points to. */
export interface RemoteRef {
  sha: string;
  /** `refs/heads/<name>` or `refs/tags/<name>`. */
  ref: string;
}

export interface ReadFileOptions {
  /** Larger blobs are refused unread. @defaultValue 10 MiB */
  maxBytes?: number;
}

export interface AcquireTreeOptions {
  /** Check out submodules too. @defaultValue false */
  submodules?: boolean;
}

interface TreeBuild {
  source: CheckedSource;
  mirrorDir: string;
  sha: string;
  treePath: string;
  submodules: boolean;
}

interface HeldTree {
  holders: number;
  path: string;
  /** Set while nobody holds the tree: removes it unless taken again. */
  expiry?: NodeJS.Timeout;
}

const defaultMaxBytes = 10 * 1024 * 1024;
const localTimeoutMs = 120_000;
const maxSubmoduleDepth = 3;
// A mirror being created by a concurrent call is younger than this.
const mirrorTempGraceMs = 10 * 60_000;
// Commits known to be in a mirror (objects never leave a mirror), so a step
// does not spawn git to check again; bounded, cleared when full.
const presentLimit = 10_000;

/**
 * Turns (repository, SHA) into what workers and the server need: a file at a
 * commit, the paths a push changed, or a read-only tree of the commit.
 *
 * Contract:
 * - One materialiser per `cacheDir` (per worker process); it keeps a bare
 *   mirror per repository under `mirrors/` and trees under `trees/`.
 * - Call `reap()` once at start, before other calls.
 * - All methods validate SHAs and sources before running git and may be
 *   called concurrently: work on one repository (fetches) and on one tree
 *   is serialised inside.
 * - Failures are `GitError`s; `retryable` tells transient from permanent.
 *   A server refusing kiln is ACCESS_DENIED (permanent) with a message
 *   saying what to do.
 * - A source carrying no token of its own is fetched with one from
 *   `credentials`, asked before every fetch and ls-remote; callers never
 *   handle tokens.
 */
export class GitMaterialiser {
  readonly #cacheDir: string;
  readonly #fetchTimeoutMs: number;
  readonly #fetchStallMs: number;
  readonly #fetchAttempts: number;
  readonly #fetchRetryDelayMs: number;
  readonly #treeLingerMs: number;
  readonly #credentials: GitCredentials | undefined;
  readonly #repoLock = new KeyedLock();
  readonly #treeLock = new KeyedLock();
  readonly #held = new Map<string, HeldTree>();
  readonly #present = new Set<string>();
  /** Temp names (`.tmp-*`, `.tmp-*.tar`) of trees being built right now. */
  readonly #building = new Set<string>();

  constructor(options: GitMaterialiserOptions) {
    this.#cacheDir = resolve(options.cacheDir);
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? 300_000;
    this.#fetchStallMs = options.fetchStallMs ?? 30_000;
    this.#fetchAttempts = options.fetchAttempts ?? 3;
    this.#fetchRetryDelayMs = options.fetchRetryDelayMs ?? 500;
    this.#treeLingerMs = options.treeLingerMs ?? 0;
    this.#credentials = options.credentials;
  }

  get #treesDir(): string {
    return join(this.#cacheDir, 'trees');
  }

  #mirrorDir(source: CheckedSource): string {
    return join(this.#cacheDir, 'mirrors', source.mirrorName);
  }

  /**
   * Makes sure the bare mirror of `source` has `sha`, fetching exactly that
   * SHA (not all refs) when it is missing. Idempotent; concurrent calls for
   * one repository are serialised.
   */
  async ensureCommit(source: RepositorySource, sha: string): Promise<void> {
    const checked = checkRepositorySource(source);
    const id = assertObjectId(sha);
    await this.#ensure(checked, id);
  }

  async #ensure(source: CheckedSource, sha: string): Promise<string> {
    const mirrorDir = this.#mirrorDir(source);
    const known = `${mirrorDir}\0${sha}`;
    if (this.#present.has(known)) return mirrorDir;
    await this.#repoLock.runExclusive(source.mirrorName, async () => {
      await ensureMirror(mirrorDir);
      const type = await readObjectType(mirrorDir, sha);
      if (type !== 'commit' && type !== 'tree') {
        await fetchCommit({
          mirrorDir,
          source,
          sha,
          timeoutMs: this.#fetchTimeoutMs,
          stallMs: this.#fetchStallMs,
          attempts: this.#fetchAttempts,
          retryDelayMs: this.#fetchRetryDelayMs,
          credentials: this.#credentials,
        });
      }
      if (this.#present.size >= presentLimit) this.#present.clear();
      this.#present.add(known);
    });
    return mirrorDir;
  }

  /**
   * The commit the branch or tag `name` points to on the server, asked with
   * `git ls-remote` (nothing is fetched); a branch wins over a tag of the
   * same name and an annotated tag gives its commit. Null when there is
   * neither. ACCESS_DENIED when the server refuses kiln.
   */
  async resolveRef(
    source: RepositorySource,
    name: string,
  ): Promise<RemoteRef | null> {
    const checked = checkRepositorySource(source);
    const branch = `refs/heads/${checkRefName(name)}`;
    const tag = `refs/tags/${name}`;
    const mirrorDir = this.#mirrorDir(checked);
    await this.#repoLock.runExclusive(checked.mirrorName, () =>
      ensureMirror(mirrorDir),
    );
    const found = await listRemoteRefs({
      cwd: mirrorDir,
      source: checked,
      credentials: this.#credentials,
      refs: [branch, tag],
      timeoutMs: 60_000,
      stallMs: this.#fetchStallMs,
    });
    const branchSha = found.get(branch);
    if (branchSha) return { sha: branchSha, ref: branch };
    const tagSha = found.get(`${tag}^{}`) ?? found.get(tag);
    return tagSha ? { sha: tagSha, ref: tag } : null;
  }

  /**
   * Reads one file at `sha` without a checkout. The size is checked first
   * and a blob above `maxBytes` is refused unread (FILE_TOO_LARGE). Null
   * when the path does not exist at that commit or is not a regular file.
   */
  async readFile(
    source: RepositorySource,
    sha: string,
    path: string,
    options: ReadFileOptions = {},
  ): Promise<Buffer | null> {
    const checked = checkRepositorySource(source);
    const id = assertObjectId(sha);
    const repoPath = checkRepoPath(path);
    const maxBytes = options.maxBytes ?? defaultMaxBytes;
    const mirrorDir = await this.#ensure(checked, id);
    return readBlobAtCommit({
      mirrorDir,
      sha: id,
      path: repoPath,
      maxBytes,
      timeoutMs: localTimeoutMs,
    });
  }

  /**
   * Paths changed between two commits (for trigger `paths` filters), sorted.
   * Empty when `base` is null or all zeros (a new branch). A `base` that the
   * server no longer has (force-push) fails with COMMIT_NOT_FOUND so the
   * caller can decide rather than silently match nothing.
   */
  async changedPaths(
    source: RepositorySource,
    base: string | null,
    head: string,
  ): Promise<string[]> {
    const checked = checkRepositorySource(source);
    const headId = assertObjectId(head, 'head');
    if (base === null || isZeroObjectId(base)) {
      await this.#ensure(checked, headId);
      return [];
    }
    const baseId = assertObjectId(base, 'base');
    await this.#ensure(checked, headId);
    const mirrorDir = await this.#ensure(checked, baseId);
    return listChangedPaths({
      mirrorDir,
      base: baseId,
      head: headId,
      timeoutMs: localTimeoutMs,
    });
  }

  /**
   * The merge base of two commits (fetched when missing); null when their
   * histories are unrelated. For comparing a pull request with its base.
   */
  async mergeBase(
    source: RepositorySource,
    a: string,
    b: string,
  ): Promise<string | null> {
    const checked = checkRepositorySource(source);
    const aId = assertObjectId(a, 'a');
    const bId = assertObjectId(b, 'b');
    await this.#ensure(checked, aId);
    const mirrorDir = await this.#ensure(checked, bId);
    return mergeBaseOf({
      mirrorDir,
      a: aId,
      b: bId,
      timeoutMs: localTimeoutMs,
    });
  }

  /**
   * Whether a branch or tag of the repository holds `sha` — the trust
   * question for a run launched by SHA: a fork's commit can be fetched by
   * its SHA through the base repository on GitHub, yet is not its code.
   */
  async isOnBranchOrTag(
    source: RepositorySource,
    sha: string,
  ): Promise<boolean> {
    const checked = checkRepositorySource(source);
    const id = assertObjectId(sha);
    const mirrorDir = this.#mirrorDir(checked);
    return this.#repoLock.runExclusive(checked.mirrorName, async () => {
      await ensureMirror(mirrorDir);
      return isOnBranchOrTag({
        mirrorDir,
        source: checked,
        sha: id,
        timeoutMs: this.#fetchTimeoutMs,
        stallMs: this.#fetchStallMs,
        credentials: this.#credentials,
      });
    });
  }

  /**
   * Subjects and authors of commits already in the mirror (for lists; no
   * fetch, a commit not there is left out).
   */
  async describeCommits(
    source: RepositorySource,
    shas: readonly string[],
  ): Promise<CommitInfo[]> {
    const checked = checkRepositorySource(source);
    const ids = shas
      .filter((sha) => /^[0-9a-f]{40}$/.test(sha))
      .map((sha) => assertObjectId(sha));
    return describeCommits({
      mirrorDir: this.#mirrorDir(checked),
      shas: ids,
      timeoutMs: localTimeoutMs,
    });
  }

  /** Whether `ancestor` is `commit` or one of its ancestors. */
  async isAncestor(
    source: RepositorySource,
    ancestor: string,
    commit: string,
  ): Promise<boolean> {
    const base = await this.mergeBase(source, ancestor, commit);
    return base !== null && base === ancestor.toLowerCase();
  }

  /**
   * A read-only tree of `sha`, shared by concurrent users of the same SHA
   * (reference-counted). Built in `trees/.tmp-*` and renamed into place, so
   * a half-written tree is never reused after a crash; removed when the last
   * holder releases it.
   */
  async acquireTree(
    source: RepositorySource,
    sha: string,
    options: AcquireTreeOptions = {},
  ): Promise<CommitTree> {
    const checked = checkRepositorySource(source);
    const id = assertObjectId(sha);
    const mirrorDir = await this.#ensure(checked, id);
    const path = await this.#treeLock.runExclusive(id, async () => {
      const held = this.#held.get(id);
      if (held) {
        clearTimeout(held.expiry);
        held.expiry = undefined;
        held.holders += 1;
        return held.path;
      }
      const treePath = join(this.#treesDir, id);
      if (!(await isDirectory(treePath))) {
        await this.#buildTree({
          source: checked,
          mirrorDir,
          sha: id,
          treePath,
          submodules: options.submodules === true,
        });
      }
      this.#held.set(id, { holders: 1, path: treePath });
      return treePath;
    });
    let released = false;
    return {
      sha: id,
      path,
      release: async () => {
        if (released) return;
        released = true;
        await this.#release(id);
      },
    };
  }

  async #buildTree(build: TreeBuild): Promise<void> {
    const { source, mirrorDir, sha, treePath } = build;
    await mkdir(this.#treesDir, { recursive: true });
    const tempName = `.tmp-${randomBytes(8).toString('hex')}`;
    const temp = join(this.#treesDir, tempName);
    const scratch = [tempName, `${tempName}.tar`, `${tempName}.sub.tar`];
    for (const name of scratch) this.#building.add(name);
    try {
      await mkdir(temp);
      await exportTree({
        mirrorDir,
        sha,
        targetDir: temp,
        tarPath: `${temp}.tar`,
        timeoutMs: localTimeoutMs,
      });
      if (build.submodules) {
        await exportSubmodules({
          parent: source,
          mirrorDir,
          sha,
          targetDir: temp,
          ensure: (sub, subSha) => this.#ensure(sub, subSha),
          timeoutMs: localTimeoutMs,
          tarPath: `${temp}.sub.tar`,
          depth: maxSubmoduleDepth,
        });
      }
      await rename(temp, treePath);
    } catch (error) {
      await removeTree(temp);
      throw error;
    } finally {
      for (const name of scratch) this.#building.delete(name);
    }
  }

  async #release(sha: string): Promise<void> {
    await this.#treeLock.runExclusive(sha, async () => {
      const held = this.#held.get(sha);
      if (!held) return;
      held.holders -= 1;
      if (held.holders > 0) return;
      if (this.#treeLingerMs <= 0) {
        this.#held.delete(sha);
        await removeTree(held.path);
        return;
      }
      held.expiry = setTimeout(() => {
        void this.#expire(sha).catch(() => undefined);
      }, this.#treeLingerMs);
      held.expiry.unref();
    });
  }

  async #expire(sha: string): Promise<void> {
    await this.#treeLock.runExclusive(sha, async () => {
      const held = this.#held.get(sha);
      if (!held || held.holders > 0) return;
      this.#held.delete(sha);
      await removeTree(held.path);
    });
  }

  /**
   * Removes half-written temp trees, trees nobody in this process holds and
   * temp mirrors older than 10 minutes (left by a crash). Meant for
   * start-up; safe beside running calls. Returns how many it removed.
   */
  async reap(): Promise<number> {
    let removed = 0;
    for (const name of await listNames(this.#treesDir)) {
      if (this.#held.has(name) || this.#building.has(name)) continue;
      await this.#treeLock.runExclusive(name, async () => {
        if (this.#held.has(name) || this.#building.has(name)) return;
        await removeTree(join(this.#treesDir, name));
        removed += 1;
      });
    }
    removed += await removeStaleTemps(
      join(this.#cacheDir, 'mirrors'),
      mirrorTempGraceMs,
    );
    return removed;
  }
}
