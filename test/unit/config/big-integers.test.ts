/**
 * Integers beyond 2^53 keep every digit from the YAML text, a `--param`
 * value or an API value through conversion to the rendered command, as
 * Python (and so Valohai) keeps them.
 */
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../../src/config/build-command.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { planStep } from '../../../src/config/plan.js';
import { resolveParameterValues } from '../../../src/config/resolve-parameter-values.js';

function loadStep(parameters: string) {
  const text = `- step:\n    name: s\n    image: busybox:1\n    command: run {parameters}\n    parameters:\n${parameters}`;
  const loaded = loadConfig(text, { file: 'kiln.yaml' });
  const step = loaded.config.steps[0];
  if (!step) throw new Error('no step');
  return { loaded, step };
}

function findingsOf(parameters: string): string[] {
  return loadStep(parameters).loaded.findings.map(
    (finding) =>
      `${finding.line}:${finding.column} ${finding.severity}: ${finding.message}`,
  );
}

describe('big integers in defaults', () => {
  it.each<[string, string]>([
    ['type: integer, default: 9007199254740993', 'run --n=9007199254740993'],
    ['type: integer, default: -9007199254740993', 'run --n=-9007199254740993'],
    [
      'type: integer, default: 123456789012345678901234567890',
      'run --n=123456789012345678901234567890',
    ],
    ['type: integer, default: "9007199254740993"', 'run --n=9007199254740993'],
    ['type: integer, default: 0x20000000000001', 'run --n=9007199254740993'],
    ['type: string, default: "9007199254740993"', 'run --n=9007199254740993'],
    // Python's float() rounds the int to the nearest double, as JS does.
    ['type: float, default: 9007199254740993', 'run --n=9007199254740992.0'],
    [
      'type: integer, multiple: separate, default: [9007199254740993, 1]',
      'run --n=9007199254740993,1',
    ],
    [
      'type: integer, multiple: repeat, default: [9007199254740993]',
      'run --n=9007199254740993',
    ],
    [
      'type: integer, default: 9007199254740993, pass-as: "{v}"',
      'run 9007199254740993',
    ],
  ])('{%s} renders %j', (fields, expected) => {
    const { loaded, step } = loadStep(`      - {name: n, ${fields}}\n`);

    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(planStep(step).command).toEqual([expected]);
  });

  it('reads an untyped big default without losing digits (a warning, as Valohai)', () => {
    expect(
      findingsOf('      - {name: n, default: 9007199254740993}\n'),
    ).toEqual([
      '6:28 warning: parameter "n" in step "s": default 9007199254740993 is not a string; quote it or set "type"',
    ]);
    expect(
      planStep(loadStep('      - {name: n, default: 9007199254740993}\n').step)
        .command,
    ).toEqual(['run --n=9007199254740993']);
  });
});

describe('big integers given at launch', () => {
  const { step } = loadStep(
    '      - {name: n, type: integer, min: 9007199254740993, max: 9007199254740995}\n',
  );

  it.each<[unknown, string]>([
    ['9007199254740993', 'run --n=9007199254740993'],
    [' 9_007_199_254_740_995 ', 'run --n=9007199254740995'],
    [9007199254740993n, 'run --n=9007199254740993'],
  ])('%s renders %s', (given, expected) => {
    const resolved = resolveParameterValues(
      step,
      { n: given },
      { useDefaults: true },
    );

    expect(resolved.errors).toEqual([]);
    expect(buildCommand(step, resolved.values)).toEqual([expected]);
  });

  it.each<[string, string]>([
    [
      '9007199254740992',
      'step "s": parameter "n": 9007199254740992 is less than the minimum allowed (9007199254740993); use a value ≥ 9007199254740993',
    ],
    [
      '9007199254740996',
      'step "s": parameter "n": 9007199254740996 is greater than the maximum allowed (9007199254740995); use a value ≤ 9007199254740995',
    ],
  ])('compares %j with min and max exactly', (given, message) => {
    const resolved = resolveParameterValues(
      step,
      { n: given },
      { useDefaults: true },
    );

    expect(resolved.errors).toEqual([message]);
  });
});

describe('big integers in lint checks', () => {
  it.each<[string, string[]]>([
    [
      '      - {name: n, type: integer, default: 9007199254740993, max: 9007199254740993}\n',
      [],
    ],
    [
      '      - {name: n, type: integer, default: 9007199254740993, max: 9007199254740992}\n',
      [
        '6:43 warning: parameter "n" in step "s": default 9007199254740993 is greater than the maximum allowed (9007199254740992)',
      ],
    ],
    [
      '      - {name: n, type: integer, default: 9007199254740993, choices: [9007199254740992]}\n',
      [
        '6:43 warning: parameter "n" in step "s": default 9007199254740993 is not among the choices allowed ([9007199254740992])',
      ],
    ],
    [
      '      - {name: n, type: integer, default: 1, min: -9007199254740993}\n',
      [],
    ],
  ])('%j', (parameters, expected) => {
    expect(findingsOf(parameters)).toEqual(expected);
  });

  it('accepts a big int where the schema wants an integer', () => {
    const text =
      '- step:\n    name: s\n    image: busybox:1\n    command: run\n    time-limit: 9007199254740993\n';

    expect(loadConfig(text, { file: 'kiln.yaml' }).findings).toEqual([]);
  });
});

describe('big integers in a trigger', () => {
  it('keeps them as their digits, so the run they start stores them exactly', () => {
    const text =
      '- step:\n    name: s\n    image: busybox:1\n    command: run {parameters}\n    parameters: [{name: n, type: integer}]\n' +
      '- trigger:\n    name: t\n    run: s\n    parameters:\n      n: 9007199254740993\n      ids: [9007199254740993, 1]\n';

    const loaded = loadConfig(text, { file: 'kiln.yaml' });

    expect(loaded.config.triggers[0]?.parameters).toEqual({
      n: '9007199254740993',
      ids: ['9007199254740993', 1],
    });
    expect(JSON.parse(JSON.stringify(loaded.config.triggers[0]))).toEqual(
      loaded.config.triggers[0],
    );
  });
});
