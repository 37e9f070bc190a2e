import { describe, expect, it } from 'vitest';
import { statusContext } from '../../../src/reporter/build-run-report.js';

describe('statusContext', () => {
  it.each([
    [{ name: 'train', trigger: { event: 'push' } }, 'kiln/train'],
    [{ name: 'train' }, 'kiln/train'],
    // A scheduled run of the pushed commit keeps the push's status intact.
    [
      { name: 'train', trigger: { event: 'schedule', schedule: 's1' } },
      'kiln/train (schedule)',
    ],
    [{ name: 'x'.repeat(300) }, `kiln/${'x'.repeat(100)}`],
  ])('%j → %s', (run, context) => {
    expect(statusContext(run)).toBe(context);
  });
});
