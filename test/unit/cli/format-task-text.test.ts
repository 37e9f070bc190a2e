import { describe, expect, it } from 'vitest';
import { formatTaskText } from '../../../src/cli/format-task-text.js';
import type { TaskSummary } from '../../../src/control/summarize-task.js';

function summary(children: TaskSummary['children']): TaskSummary {
  return {
    runId: 'r1',
    node: 'grid',
    type: 'grid_search',
    step: 'train',
    status: 'error',
    message: '1 of 2 children complete, 1 failed',
    onChildError: 'continue-and-error',
    parameters: ['a'],
    metrics: ['loss'],
    counts: { complete: 1, error: 1 },
    goal: { metric: 'loss', goal: 'minimize' },
    best: { name: 'grid#1', value: 0.5 },
    children,
  };
}

describe('formatTaskText', () => {
  it('says why a child did not complete, and marks the best', () => {
    const text = formatTaskText(
      summary([
        {
          name: 'grid#1',
          number: 1,
          status: 'complete',
          message: 'exited 0',
          parameters: { a: 1 },
          metrics: { loss: 0.5 },
          counter: 1,
        },
        {
          name: 'grid#2',
          number: 2,
          status: 'error',
          message: 'failed: exit code 2',
          parameters: { a: 2 },
          metrics: {},
          counter: 2,
        },
      ]),
    );

    const rows = text.split('\n').filter((line) => line.startsWith('grid#'));
    expect(rows[0]).toMatch(/^grid#1 \*\s+#1\s+complete\s+1\s+0\.5/);
    expect(rows[1]).toMatch(/^grid#2\s+#2\s+error — failed: exit code 2\s+2/);
  });
});
