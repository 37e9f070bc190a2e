/** The checks of `task` items, through loadConfig (positions included). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';

function findingsOf(text: string): string[] {
  return loadConfig(text, { file: 'kiln.yaml' }).findings.map(
    (finding) =>
      `${finding.line}:${finding.column} ${finding.severity}: ${finding.message}`,
  );
}

const STEP = `- step:
    name: train
    image: python:3.12
    command: python train.py {parameters}
    parameters:
      - {name: lr, type: float, default: 0.1}
`;

function task(body: string): string {
  return `${STEP}- task:\n    name: sweep\n    step: train\n${body}`;
}

describe('task checks', () => {
  it('accepts a valid sweep', () => {
    expect(
      findingsOf(
        task(
          '    type: random_search\n    execution-count: 5\n    on-child-error: stop-all-and-error\n    stop-condition: loss < 0.1\n    parameters:\n      - {name: lr, style: random, rules: {min: 0.001, max: 0.1, distribution: loguniform, seed: 1}}\n',
        ),
      ),
    ).toEqual([]);
  });

  it('refuses an unknown on-child-error policy', () => {
    expect(
      findingsOf(task('    on-child-error: ignore\n    parameters: []\n')),
    ).toEqual([
      '10:21 error: "on-child-error" of task "sweep" must be one of continue-and-complete, continue-and-error, stop-all-and-error, got "ignore"',
    ]);
  });

  it('refuses variant rules kiln could not expand, at their line', () => {
    expect(
      findingsOf(
        task(
          '    parameters:\n      - {name: lr, style: linear, rules: {start: 1, end: 5, step: -1}}\n',
        ),
      ),
    ).toEqual([
      '11:9 error: task "sweep": parameter "lr" (linear): a step of -1 never goes from 1 to 5',
    ]);
  });

  it('warns about a varied parameter the step does not have', () => {
    expect(
      findingsOf(
        task(
          '    parameters:\n      - {name: rl, style: single, rules: {value: 1}}\n',
        ),
      ),
    ).toEqual([
      '11:16 warning: task "sweep" varies "rl", which is not a parameter of step "train"',
    ]);
  });

  it('warns about parameter-sets outside manual_search and a name shared with a step', () => {
    const text = `${STEP}- task:\n    name: train\n    step: train\n    parameter-sets: [{lr: 0.1}]\n`;

    expect(findingsOf(text)).toEqual([
      '8:11 warning: task "train" has the name of a step: `kiln run train` and triggers run the step; rename the task to run it',
      '10:21 warning: "parameter-sets" of task "train" only make sense with type manual_search',
    ]);
  });

  it('lets a trigger run a task', () => {
    expect(
      findingsOf(
        `${task('    parameters: []\n')}- trigger:\n    name: t\n    run: sweep\n`,
      ),
    ).toEqual([]);
  });
});
