/**
 * The git checkout `kiln run` is started in: its identity in kiln, the
 * commit (or ad-hoc tree) to run, and the configuration text at that point.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type {
  GitMaterialiser,
  RepositorySource,
} from '../git/git-materialiser.js';
import {
  inspectWorkTree,
  resolveRevision,
  snapshotWorkTree,
} from '../git/inspect-work-tree.js';
import { KilnError } from '../errors.js';

export const CONFIG_FILES = ['kiln.yaml', 'valohai.yaml'] as const;
const MAX_CONFIG_BYTES = 1024 * 1024;

export class LocalRunError extends KilnError {
  readonly code:
    'DIRTY_WORK_TREE' | 'NO_COMMIT' | 'NO_CONFIG' | 'CONFIG_TOO_LARGE';
  constructor(code: LocalRunError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface LocalCheckout {
  repository: string;
  source: RepositorySource & { tree?: string };
  commit: string;
  configFile: string;
  configText: string;
  adhoc: boolean;
}

export async function openLocalCheckout(options: {
  dir: string;
  git: GitMaterialiser;
  commit?: string;
  adhoc?: boolean;
}): Promise<LocalCheckout> {
  const tree = await inspectWorkTree(options.dir);
  const pathHash = createHash('sha256')
    .update(tree.root)
    .digest('hex')
    .slice(0, 8);
  const repository = `local/${basename(tree.root)}`;
  const source: LocalCheckout['source'] = {
    id: `local/${basename(tree.root)}-${pathHash}`,
    url: tree.root,
  };
  if (options.adhoc) {
    const snapshot = await snapshotWorkTree(tree.root);
    source.tree = snapshot.treeSha;
    const config = await readWorkTreeConfig(tree.root);
    return {
      repository,
      source,
      commit: snapshot.identifier,
      ...config,
      adhoc: true,
    };
  }
  let commit: string;
  if (options.commit) {
    commit = await resolveRevision(tree.root, options.commit);
  } else {
    if (tree.dirty) {
      const shown = tree.dirtyPaths.slice(0, 5).join(', ');
      const more =
        tree.dirtyPaths.length > 5
          ? ` and ${tree.dirtyPaths.length - 5} more`
          : '';
      throw new LocalRunError(
        'DIRTY_WORK_TREE',
        `the work tree has uncommitted changes (${shown}${more}): commit them to run exactly what the server would run, or use --adhoc to run the work tree as it is (recorded by a content hash instead of a commit)`,
      );
    }
    if (!tree.headSha) {
      throw new LocalRunError(
        'NO_COMMIT',
        'this repository has no commit yet: commit your code, or use --adhoc',
      );
    }
    commit = tree.headSha;
  }
  await options.git.ensureCommit(source, commit);
  for (const file of CONFIG_FILES) {
    const text = await options.git.readFile(source, commit, file, {
      maxBytes: MAX_CONFIG_BYTES,
    });
    if (text)
      return {
        repository,
        source,
        commit,
        configFile: file,
        configText: text.toString('utf8'),
        adhoc: false,
      };
  }
  throw new LocalRunError(
    'NO_CONFIG',
    `commit ${commit.slice(0, 12)} has neither kiln.yaml nor valohai.yaml at the repository root`,
  );
}

async function readWorkTreeConfig(
  root: string,
): Promise<{ configFile: string; configText: string }> {
  for (const file of CONFIG_FILES) {
    const path = join(root, file);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) continue;
    if (info.size > MAX_CONFIG_BYTES) {
      throw new LocalRunError(
        'CONFIG_TOO_LARGE',
        `${file} is ${info.size} bytes; kiln reads configuration files up to 1 MiB`,
      );
    }
    return { configFile: file, configText: await readFile(path, 'utf8') };
  }
  throw new LocalRunError(
    'NO_CONFIG',
    `neither kiln.yaml nor valohai.yaml is at ${root}`,
  );
}
