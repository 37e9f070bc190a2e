import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PyFloat } from '../../../src/config/py-scalars.js';
import {
  buildConfigFiles,
  toJsonValue,
} from '../../../src/worker/container-contract.js';

function configFiles(parameters: Record<string, unknown>) {
  return buildConfigFiles({
    executionId: 'run-1-0-1',
    counter: 1,
    commit: 'a'.repeat(40),
    step: 'train',
    image: 'busybox:1',
    repository: 'acme/models',
    createdAt: '2026-01-01T00:00:00.000Z',
    parameters,
    inputs: [],
  });
}

describe('the /valohai/config parameter files', () => {
  it('print an int beyond 2^53 with every digit, in JSON and YAML', () => {
    const files = configFiles({
      n: 9007199254740993n,
      ids: [-123456789012345678901234567890n, 1],
      lr: new PyFloat(0.5),
      name: 'x',
    });

    expect(files['parameters.json']).toBe(
      '{\n  "n": 9007199254740993,\n  "ids": [\n    -123456789012345678901234567890,\n    1\n  ],\n  "lr": 0.5,\n  "name": "x"\n}\n',
    );
    expect(
      parse(files['parameters.yaml'] ?? '', { intAsBigInt: true }),
    ).toEqual({
      n: 9007199254740993n,
      ids: [-123456789012345678901234567890n, 1n],
      lr: 0.5,
      name: 'x',
    });
  });
});

describe('toJsonValue (kiln records)', () => {
  it.each<[unknown, unknown]>([
    [9007199254740993n, '9007199254740993'],
    [
      [1, 9007199254740993n],
      [1, '9007199254740993'],
    ],
    [{ n: -9007199254740993n }, { n: '-9007199254740993' }],
    [new PyFloat(Infinity), null],
  ])('turns %s into plain JSON', (value, expected) => {
    const plain = toJsonValue(value);

    expect(plain).toEqual(expected);
    expect(JSON.parse(JSON.stringify(plain))).toEqual(expected);
  });
});
