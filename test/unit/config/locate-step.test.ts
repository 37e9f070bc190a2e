import { describe, expect, it } from 'vitest';
import { locateStep } from '../../../src/config/locate-step.js';

const TEXT = `- step:
    name: prepare
    image: busybox
    command: echo prepare
- pipeline:
    name: main
    nodes:
      - name: first
        type: task
        step: sweep
- step:
    name: prepare
    image: alpine
    command: echo again
`;

describe('locateStep', () => {
  it('points at the name of the last definition of a step (the one that runs)', () => {
    expect(
      locateStep({ text: TEXT, file: 'kiln.yaml', step: 'prepare' }),
    ).toEqual({
      line: 12,
      column: 11,
    });
  });

  it("falls back to the pipeline's node when no step has the name", () => {
    expect(
      locateStep({
        text: TEXT,
        file: 'kiln.yaml',
        step: 'sweep',
        pipeline: 'main',
        node: 'first',
      }),
    ).toEqual({ line: 8, column: 15 });
  });

  it.each(['', ': [', '- step: 3'])('is undefined for %j', (text) => {
    expect(
      locateStep({ text, file: 'kiln.yaml', step: 'prepare' }),
    ).toBeUndefined();
  });
});
