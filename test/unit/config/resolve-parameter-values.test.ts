import { describe, expect, it } from 'vitest';
import { resolveParameterValues } from '../../../src/config/resolve-parameter-values.js';
import { PyFloat } from '../../../src/config/py-scalars.js';
import { makeParameter, makeStep } from '../../helpers/config-builders.js';

const step = makeStep({
  parameters: [
    makeParameter({ name: 'lr', type: 'float', default: '1e-4' }),
    makeParameter({ name: 'epochs', type: 'integer', default: 5, min: 1 }),
    makeParameter({ name: 'fast', type: 'flag', default: true }),
    makeParameter({ name: 'verbose', type: 'flag' }),
    makeParameter({ name: 'seed', type: 'integer', optional: true }),
    makeParameter({ name: 'ids', type: 'integer', multiple: 'repeat' }),
    makeParameter({ name: 'opt', choices: ['adam', 'sgd'], default: 'adam' }),
  ],
});

describe('resolveParameterValues', () => {
  it('converts every default, flags included', () => {
    const resolved = resolveParameterValues(step, {}, { useDefaults: true });

    expect(resolved.errors).toEqual([]);
    expect({ ...resolved.values }).toEqual({
      lr: new PyFloat(0.0001),
      epochs: 5,
      fast: true,
      ids: [],
      opt: 'adam',
    });
  });

  it('converts values typed on the command line over the defaults', () => {
    const overrides = {
      epochs: '7',
      fast: 'no',
      verbose: 'yes',
      ids: ['1', '2'],
      seed: '3',
    };

    const resolved = resolveParameterValues(step, overrides, {
      useDefaults: true,
    });

    expect(resolved.errors).toEqual([]);
    expect(resolved.values).toMatchObject({
      epochs: 7,
      fast: false,
      verbose: true,
      ids: [1, 2],
      seed: 3,
    });
  });

  it('uses only the given values without defaults', () => {
    const resolved = resolveParameterValues(
      step,
      { seed: '1' },
      { useDefaults: false },
    );

    expect({ ...resolved.values }).toEqual({ seed: 1 });
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [
      { lrr: '0.1' },
      /step "train" has no parameter "lrr" — did you mean "lr"\?/,
    ],
    [{ zzzzzz: '1' }, /no parameter "zzzzzz" \(its parameters: lr, epochs/],
    [{ epochs: '5.0' }, /"epochs".*"5\.0" is not an integer/],
    [{ epochs: '0' }, /less than the minimum allowed \(1\)/],
    [{ opt: 'adamw' }, /not among the choices allowed \(adam, sgd\)/],
    [{ fast: 'maybe' }, /"fast".*not a boolean/],
  ])('reports %j', (overrides, message) => {
    const resolved = resolveParameterValues(step, overrides, {
      useDefaults: true,
    });

    expect(resolved.errors).toEqual([expect.stringMatching(message)]);
  });

  it.each<[string, string | string[], RegExp | null]>([
    [
      'a NUL byte',
      'a\0b',
      /"note": the value contains a NUL byte, which can't be passed to a process/,
    ],
    [
      '900 KB',
      'x'.repeat(900_000),
      /"note": the value is 900000 bytes, more than a step's command line takes \(102400\); pass large data as an input instead/,
    ],
    ['a NUL in a list', ['ok', 'b\0'], /NUL byte/],
    ['100 KiB exactly', 'x'.repeat(102_400), null],
  ])('refuses a value no process can take: %s', (_what, value, message) => {
    const free = makeStep({
      name: 'train',
      parameters: [
        makeParameter({ name: 'note', optional: true }),
        makeParameter({ name: 'notes', optional: true, multiple: 'repeat' }),
      ],
    });

    const resolved = resolveParameterValues(
      free,
      Array.isArray(value) ? { notes: value } : { note: value },
      { useDefaults: true },
    );

    expect(resolved.errors).toEqual(
      message ? [expect.stringMatching(message)] : [],
    );
  });

  it('reports a required parameter left without a value', () => {
    const required = makeStep({
      parameters: [
        makeParameter({ name: 'data' }),
        makeParameter({ name: 'flag', type: 'flag' }),
        makeParameter({ name: 'maybe', optional: true }),
      ],
    });

    const resolved = resolveParameterValues(
      required,
      {},
      { useDefaults: true },
    );

    expect(resolved.errors).toEqual([
      expect.stringContaining('needs a value for required parameter "data"'),
    ]);
    expect(resolved.missing).toEqual(['data']);
    expect(resolved.unconvertible).toEqual([]);
  });

  it('lists the parameters whose default cannot be converted', () => {
    const broken = makeStep({
      parameters: [
        makeParameter({ name: 'n', type: 'integer', default: 'abc' }),
      ],
    });

    const resolved = resolveParameterValues(broken, {}, { useDefaults: true });

    expect(resolved.unconvertible).toEqual(['n']);
    expect(resolved.errors).toHaveLength(1);
  });

  it('does not choke on names that are special in JavaScript', () => {
    const overrides = JSON.parse('{"__proto__": "x", "constructor": "y"}');

    const resolved = resolveParameterValues(step, overrides, {
      useDefaults: true,
    });

    expect(resolved.errors).toHaveLength(2);
    expect(Object.getPrototypeOf(resolved.values)).toBeNull();
  });
});
