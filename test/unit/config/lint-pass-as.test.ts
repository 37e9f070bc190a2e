/**
 * pass-as templates Valohai's builder (Python's str.format) cannot build
 * are errors with their position; what builds is left alone.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { resolveParameterValues } from '../../../src/config/resolve-parameter-values.js';

function load(parameter: string) {
  return loadConfig(
    `- step:\n    name: train\n    image: busybox:1\n    command: run {parameters}\n    parameters:\n      - ${parameter}\n`,
    { file: 'kiln.yaml' },
  );
}

function findingsOf(parameter: string): string[] {
  return load(parameter).findings.map(
    (finding) =>
      `${finding.line}:${finding.column} ${finding.severity}: ${finding.message}`,
  );
}

/** Where the value of `key` starts on line 6 (`      - {…}`). */
function columnOf(parameter: string, key: string): number {
  return '      - '.length + parameter.indexOf(`${key}: `) + key.length + 3;
}

const refused = (problem: string): string =>
  `cannot be built: ${problem}; Valohai's builder (Python's str.format) fails on it too — fix the field, or write {{ and }} for literal braces`;

const unsupported = (problem: string): string =>
  `cannot be built by kiln: ${problem}; use {name}, {value} or {v}, with a format spec if needed`;

describe('pass-as checks', () => {
  it.each([
    '{name: n, type: integer, pass-as: "--n={v:03d}"}',
    '{name: n, type: integer, pass-as: "--n={v:.2f}"}',
    '{name: n, type: float, pass-as: "--n={v:.2e}"}',
    '{name: n, pass-as: "--n={v:>10}"}',
    '{name: n, pass-as: "--{name}={value!r:>10}"}',
    '{name: n, type: flag, pass-true-as: "--n={v:d}"}',
    '{name: n, type: flag, pass-true-as: "-t", pass-as: "{v:q}"}',
    '{name: n, type: integer, multiple: repeat, pass-as: "-n {v:02d}"}',
    '{name: n, pass-as: "--x={{literal}}"}',
  ])('accepts %s', (parameter) => {
    expect(findingsOf(parameter).filter((f) => f.includes('error'))).toEqual(
      [],
    );
  });

  it.each<[string, string, string]>([
    [
      '{name: n, type: float, pass-as: "--n={v:03d}"}',
      'pass-as',
      refused("{v:03d}: Unknown format code 'd' for object of type 'float'"),
    ],
    [
      '{name: n, pass-as: "--n={v:d}"}',
      'pass-as',
      refused("{v:d}: Unknown format code 'd' for object of type 'str'"),
    ],
    [
      '{name: n, type: integer, multiple: separate, pass-as: "--n={v:d}"}',
      'pass-as',
      refused("{v:d}: Unknown format code 'd' for object of type 'str'"),
    ],
    [
      '{name: n, type: integer, pass-as: "--n={v:.2d}"}',
      'pass-as',
      refused('{v:.2d}: Precision not allowed in integer format specifier'),
    ],
    [
      '{name: n, pass-as: "--n={v:+}"}',
      'pass-as',
      refused('{v:+}: Sign not allowed in string format specifier'),
    ],
    [
      '{name: n, pass-as: "--n={other}"}',
      'pass-as',
      refused(
        "{other}: KeyError: 'other' (the only names are name, value and v)",
      ),
    ],
    [
      '{name: n, pass-as: "--n={}"}',
      'pass-as',
      refused('{}: Format string contains positional fields'),
    ],
    [
      '{name: n, pass-as: "--n={v"}',
      'pass-as',
      refused("{v: expected '}' before end of string"),
    ],
    [
      '{name: n, pass-as: "--n=v}"}',
      'pass-as',
      refused("Single '}' encountered in format string"),
    ],
    [
      '{name: n, pass-as: "--n={v!x}"}',
      'pass-as',
      refused('{v!x}: Unknown conversion specifier x'),
    ],
    [
      '{name: n, type: flag, pass-false-as: "--n={v:s}"}',
      'pass-false-as',
      refused("{v:s}: Unknown format code 's' for object of type 'bool'"),
    ],
    [
      '{name: n, type: integer, pass-as: "--n={v:99999}"}',
      'pass-as',
      refused(
        '{v:99999}: 99999 is too large: kiln allows widths and precisions up to 10000',
      ),
    ],
    [
      '{name: n, pass-as: "--n={v.upper}"}',
      'pass-as',
      unsupported(
        '{v.upper}: attribute and index access in a field is not built by kiln',
      ),
    ],
    [
      '{name: n, pass-as: "--n={v:>{name}}"}',
      'pass-as',
      unsupported(
        '{v:>{name}}: a field nested in a format spec is not built by kiln',
      ),
    ],
  ])('refuses %s (%s)', (parameter, key, rest) => {
    expect(findingsOf(parameter)).toEqual([
      `6:${columnOf(parameter, key)} error: "${key}" of parameter "n" in step "train" ${rest}`,
    ]);
  });

  it('checks a node override parameter too', () => {
    const text =
      '- step:\n    name: train\n    image: busybox:1\n    command: run {parameters}\n    parameters: [{name: n, type: integer}]\n' +
      '- pipeline:\n    name: p\n    nodes:\n      - name: a\n        type: execution\n        step: train\n        override:\n          parameters:\n            - {name: n, type: integer, pass-as: "{v:q}"}\n    edges: []\n';

    const messages = loadConfig(text, { file: 'kiln.yaml' }).findings.map(
      (finding) => `${finding.line}:${finding.column} ${finding.message}`,
    );

    expect(messages).toEqual([
      expect.stringMatching(
        /^14:49 "pass-as" of parameter "n" in node "a" .*cannot be built: \{v:q\}: Unknown format code 'q' for object of type 'int'/,
      ),
    ]);
  });

  it('advises when the default cannot be formatted, and plans no command', () => {
    const loaded = load(
      '{name: n, type: integer, default: 1114112, pass-as: "{v:c}"}',
    );

    expect(
      loaded.findings.map((f) => [f.severity, f.advice, f.message]),
    ).toEqual([
      [
        'warning',
        true,
        'default 1114112 of parameter "n" in step "train" cannot be rendered: {v:c}: %c arg not in range(0x110000); the step needs another value to launch',
      ],
    ]);
    const step = loaded.config.steps[0]!;
    const resolved = resolveParameterValues(step, {}, { useDefaults: true });
    expect(resolved.unconvertible).toEqual(['n']);
    expect(resolved.errors).toEqual([
      'step "train": parameter "n": 1114112 cannot be rendered: {v:c}: %c arg not in range(0x110000)',
    ]);
    const given = resolveParameterValues(
      step,
      { n: '65' },
      { useDefaults: true },
    );
    expect(given.errors).toEqual([]);
  });
});
