import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/model/run.js';
import {
  findBaseRun,
  type CommitHistory,
} from '../../../src/control/find-base-run.js';
import type { ListRunsOptions, RunStore } from '../../../src/store/index.js';

function run(
  id: string,
  commit: string,
  overrides: Partial<RunRecord> = {},
): RunRecord {
  return {
    id,
    counter: 1,
    repository: 'acme/models',
    commit: commit.repeat(40),
    ref: 'refs/heads/main',
    kind: 'pipeline',
    name: 'train',
    status: 'complete',
    parameters: {},
    nodes: [],
    createdAt: `2026-11-24T10:0${id.slice(-1)}:00.000Z`,
    ...overrides,
  };
}

// Newest first, like the store.
const mainRuns = [run('m3', 'c'), run('m2', 'b'), run('m1', 'a')];

function storeOf(records: RunRecord[]): RunStore {
  const listRuns = async (options: ListRunsOptions) =>
    records.filter(
      (item) => item.ref === options.ref && item.status === options.status,
    );
  return { listRuns } as unknown as RunStore;
}

const pr = run('p9', 'f', {
  ref: 'refs/pull/4/head',
  status: 'running',
  trigger: {
    event: 'pull_request',
    pullRequest: 4,
    baseRef: 'main',
    baseSha: 'c'.repeat(40),
  },
});

/** History a ← b ← c on main; the PR forked at b. */
const history: CommitHistory = {
  mergeBase: async () => 'b'.repeat(40),
  isAncestor: async (_, ancestor, commit) => {
    const order = ['a', 'b', 'c'];
    return order.indexOf(ancestor[0] ?? '') <= order.indexOf(commit[0] ?? '');
  },
};

describe('findBaseRun', () => {
  it('takes the newest successful run at or before the merge base', async () => {
    const base = await findBaseRun({
      runs: storeOf(mainRuns),
      run: pr,
      history,
    });

    expect(base).toMatchObject({ label: 'main', mergeBase: 'b'.repeat(40) });
    expect(base.run?.id).toBe('m2');
  });

  it('ignores other pipelines and says when there is no baseline', async () => {
    const others = mainRuns.map((item) => ({ ...item, name: 'other' }));
    const base = await findBaseRun({ runs: storeOf(others), run: pr, history });

    expect(base.run).toBeUndefined();
    expect(base.label).toBe('main');
  });

  it('falls back to the run at the base SHA when the mirror cannot answer', async () => {
    const broken: CommitHistory = {
      mergeBase: async () => {
        throw new Error('fetch failed');
      },
      isAncestor: async () => false,
    };
    const base = await findBaseRun({
      runs: storeOf(mainRuns),
      run: pr,
      history: broken,
    });

    expect(base.run?.id).toBe('m3');
    expect(base.mergeBase).toBe('c'.repeat(40));
  });

  it('has no base outside pull requests', async () => {
    const push = run('p1', 'e');

    expect(await findBaseRun({ runs: storeOf(mainRuns), run: push })).toEqual({
      label: 'base',
    });
  });
});
