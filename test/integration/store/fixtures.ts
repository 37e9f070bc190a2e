import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunNodeState, RunRecord } from '../../../src/model/run.js';

export function makeExecution(
  overrides: Partial<ExecutionRecord> & { id: string },
): ExecutionRecord {
  return {
    counter: 1,
    repository: 'acme/models',
    commit: 'a'.repeat(40),
    step: 'train',
    image: 'python:3.12',
    imageDigest: null,
    command: ['python train.py'],
    parameters: { learning_rate: 0.1 },
    inputs: [],
    outputs: [],
    metrics: {},
    status: 'created',
    runtime: 'docker',
    host: 'worker-1',
    attempt: 1,
    createdAt: '2026-11-24T10:00:00.000Z',
    ...overrides,
  };
}

export function makeRun(
  overrides: Partial<RunRecord> & { id: string },
): RunRecord {
  return {
    counter: 1,
    repository: 'acme/models',
    commit: 'b'.repeat(40),
    ref: 'refs/heads/main',
    kind: 'pipeline',
    name: 'train-evaluate',
    status: 'created',
    parameters: {},
    nodes: [makeNode('prepare', 0), makeNode('train', 1)],
    createdAt: '2026-11-24T10:00:00.000Z',
    ...overrides,
  };
}

/** A node of `makeRun`'s runs: pending unless `overrides` say otherwise. */
export function makeNode(
  name: string,
  index: number,
  overrides: Partial<RunNodeState> = {},
): RunNodeState {
  return {
    name,
    step: name,
    index,
    status: 'pending',
    attempt: 0,
    generation: 0,
    ...overrides,
  };
}
