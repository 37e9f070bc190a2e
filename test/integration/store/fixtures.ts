import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunRecord } from '../../../src/model/run.js';

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
    nodes: [
      { name: 'prepare', step: 'prepare', status: 'pending', attempt: 1 },
      { name: 'train', step: 'train', status: 'pending', attempt: 1 },
    ],
    createdAt: '2026-11-24T10:00:00.000Z',
    ...overrides,
  };
}
