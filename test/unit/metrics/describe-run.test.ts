import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/model/run.js';
import { compareMetrics } from '../../../src/metrics/compare-metrics.js';
import {
  describeRun,
  formatSeconds,
  truncate,
} from '../../../src/metrics/describe-run.js';

function run(overrides: Partial<RunRecord>): RunRecord {
  return {
    id: 'r1',
    counter: 4,
    repository: 'acme/models',
    commit: 'a'.repeat(40),
    kind: 'pipeline',
    name: 'train',
    status: 'running',
    parameters: {},
    nodes: [
      {
        name: 'prepare',
        step: 'prepare',
        index: 0,
        status: 'complete',
        attempt: 1,
        generation: 1,
      },
      {
        name: 'train',
        step: 'train',
        index: 1,
        status: 'started',
        attempt: 1,
        generation: 1,
      },
      {
        name: 'evaluate',
        step: 'evaluate',
        index: 2,
        status: 'pending',
        attempt: 0,
        generation: 0,
      },
    ],
    createdAt: '2026-11-24T10:00:00.000Z',
    startedAt: '2026-11-24T10:00:01.000Z',
    ...overrides,
  };
}

const done = run({
  status: 'complete',
  endedAt: '2026-11-24T10:02:15.000Z',
  nodes: ['prepare', 'train', 'evaluate'].map((name, index) => ({
    name,
    step: name,
    index,
    status: 'complete' as const,
    attempt: 1,
    generation: 1,
  })),
});
const report = {
  metrics: [
    { name: 'accuracy', goal: 'maximize' as const, failIfRegressesBy: 0.02 },
  ],
};

describe('describeRun', () => {
  it.each([
    ['queued', run({ status: 'queued' }), 'pending', 'in progress · 3 steps'],
    ['running', run({}), 'pending', 'in progress · 3 steps'],
    [
      'held fork run',
      run({ status: 'waiting-approval' }),
      'pending',
      'waiting for approval…',
    ],
    ['complete without metrics', done, 'success', '3/3 steps · 2m14s'],
    [
      'failed step',
      run({
        status: 'error',
        nodes: [
          {
            name: 'train',
            step: 'train',
            index: 0,
            status: 'error',
            attempt: 1,
            generation: 1,
            message: 'exit code 1',
          },
        ],
      }),
      'failure',
      'train failed: exit code 1 · 0/1 step',
    ],
    [
      'config error',
      run({
        status: 'error',
        nodes: [],
        findings: [
          {
            file: 'kiln.yaml',
            line: 12,
            column: 5,
            path: '',
            severity: 'error',
            message: 'unknown key "imagee"',
          },
        ],
      }),
      'failure',
      'kiln.yaml:12 unknown key "imagee"',
    ],
    [
      'kiln could not run it',
      run({
        status: 'error',
        nodes: [],
        reason: 'the configuration is no longer stored',
      }),
      'error',
      'the configuration is no longer stored',
    ],
    [
      'superseded',
      run({ status: 'cancelled', supersededBy: 'b'.repeat(40) }),
      'error',
      'cancelled — superseded by bbbbbbb',
    ],
    [
      'superseded, named by the newer commit rather than its run id',
      run({
        status: 'cancelled',
        supersededBy: 'g1827d6cd2ce61e685faa2338',
        reason: 'cancelled — superseded by 05eabbf',
      }),
      'error',
      'cancelled — superseded by 05eabbf',
    ],
    ['stopped', run({ status: 'stopped' }), 'error', 'stopped · 1/3 steps'],
  ] as const)('%s', (_, record, state, description) => {
    expect(describeRun({ run: record })).toEqual({ state, description });
  });

  it('headlines the first metric with its delta against the base', () => {
    const comparisons = compareMetrics({
      head: { accuracy: 0.973 },
      base: { accuracy: 0.961 },
      report,
    });

    expect(
      describeRun({ run: done, comparisons, baseLabel: 'main' }).description,
    ).toBe('accuracy 0.973 (+0.012 vs main) · 3/3 steps · 2m14s');
  });

  it('fails a complete run that regressed beyond the allowance', () => {
    const comparisons = compareMetrics({
      head: { accuracy: 0.91 },
      base: { accuracy: 0.96 },
      report,
    });

    expect(describeRun({ run: done, comparisons, baseLabel: 'main' })).toEqual({
      state: 'failure',
      description: 'accuracy 0.91 is 0.05 below main (allowed 0.02)',
    });
  });

  it('keeps every description within 140 characters, on one line', () => {
    const long = run({
      status: 'error',
      nodes: [],
      reason: `line one\n${'é🙂'.repeat(200)}`,
    });
    const { description } = describeRun({ run: long });

    expect(description.length).toBeLessThanOrEqual(140);
    expect(description).not.toContain('\n');
    expect(description.endsWith('…')).toBe(true);
  });
});

describe('small formatters', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [134, '2m14s'],
    [3720, '1h02m'],
  ])('formatSeconds(%i) is %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  it('never cuts a surrogate pair in two', () => {
    const text = truncate('🙂'.repeat(100), 11);

    expect(text).toBe(`${'🙂'.repeat(5)}…`);
  });
});
