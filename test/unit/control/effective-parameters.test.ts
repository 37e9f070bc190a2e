import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunRecord } from '../../../src/model/run.js';
import { effectiveParameters } from '../../../src/control/compare-with-base.js';

const run = {
  kind: 'pipeline',
  parameters: { seed: '7' },
  nodes: [
    {
      name: 'train',
      step: 'train',
      status: 'complete',
      attempt: 1,
      executionId: 'e1',
    },
    {
      name: 'old',
      step: 'train',
      status: 'reused',
      attempt: 1,
      executionId: 'e0',
    },
  ],
} as unknown as RunRecord;

describe('effectiveParameters', () => {
  it("lists what each node ran with, reused nodes included, after the run's overrides", () => {
    const executions = [
      { id: 'e1', parameters: { C: 0.01, max_iter: 40 } },
      { id: 'e0', parameters: { C: 1 } },
    ] as unknown as ExecutionRecord[];

    expect(effectiveParameters(run, executions)).toEqual({
      seed: '7',
      'train.C': 0.01,
      'train.max_iter': 40,
      'old.C': 1,
    });
  });
});
