/**
 * Every step has a time limit (issue 11 item 9: no default step time
 * limit): the operator's default (KILN_STEP_TIME_LIMIT_MS, 6 h) when the
 * step sets none, the step's own `time-limit` otherwise.
 */
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../../src/settings.js';
import { buildStepSpec } from '../../../src/worker/build-step-spec.js';
import { makeStep } from '../../helpers/config-builders.js';

function specOf(timeLimit: number | undefined, defaultTimeLimitMs?: number) {
  return buildStepSpec({
    executionId: 'r1-0-1',
    attempt: 1,
    step: makeStep({ timeLimit }),
    commands: ['true'],
    folders: {
      repository: '/tmp/r',
      inputs: '/tmp/i',
      outputs: '/tmp/o',
      config: '/tmp/c',
    },
    secrets: {},
    labels: {},
    limits: { defaultTimeLimitMs },
  });
}

describe('a step time limit', () => {
  it('defaults to 6 h in the settings', () => {
    expect(readSettings({}).stepTimeLimitMs).toBe(6 * 3600 * 1000);
  });

  it("is the operator's default when the step sets none", () => {
    expect(specOf(undefined, 21_600_000).timeLimitMs).toBe(21_600_000);
  });

  it("is the step's own when it sets one, longer or shorter", () => {
    expect(specOf(60, 21_600_000).timeLimitMs).toBe(60_000);
    expect(specOf(86_400, 21_600_000).timeLimitMs).toBe(86_400_000);
  });
});

describe("a step spec's secret names", () => {
  it('name the secrets in env, not a contract variable that replaced one', () => {
    const spec = buildStepSpec({
      executionId: 'r1-0-1',
      attempt: 1,
      step: makeStep({}),
      commands: ['true'],
      folders: {
        repository: '/tmp/r',
        inputs: '/tmp/i',
        outputs: '/tmp/o',
        config: '/tmp/c',
      },
      secrets: { TOKEN: 's3cret', VH_OUTPUTS_DIR: '/elsewhere' },
      labels: {},
    });
    expect(spec.secretNames).toEqual(['TOKEN']);
    expect(spec.env.TOKEN).toBe('s3cret');
  });
});

describe("a step's environment", () => {
  it("gives a secret's value over the YAML's variable of the same name", () => {
    const spec = buildStepSpec({
      executionId: 'r1-0-1',
      attempt: 1,
      step: makeStep({
        environmentVariables: [
          { name: 'TOKEN', default: 'from-yaml', optional: true },
          { name: 'MODE', default: 'fast', optional: true },
        ],
      }),
      commands: ['true'],
      folders: {
        repository: '/tmp/r',
        inputs: '/tmp/i',
        outputs: '/tmp/o',
        config: '/tmp/c',
      },
      secrets: { TOKEN: 's3cret' },
      labels: {},
    });
    expect(spec.env.TOKEN).toBe('s3cret');
    expect(spec.env.MODE).toBe('fast');
  });
});
