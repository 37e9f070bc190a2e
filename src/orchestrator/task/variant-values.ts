/**
 * The values of one variant parameter of a task (Valohai's styles):
 *
 * - `single`   `value`: that one value.
 * - `multiple` `items`: those values, in order.
 * - `linear`   `start`, `end`, `step`: start, start + step, … up to and
 *              including `end` (within rounding).
 * - `logspace` `start` (or `min`), `end` (or `max`), `count`, `base`
 *              (default 10): `count` values base^x for x evenly spaced
 *              from start to end (numpy's logspace).
 * - `random`   `min`, `max`, `count` (default 1), `distribution`
 *              (`uniform` default, `loguniform`, `normal`), `seed`:
 *              `count` samples.
 *
 * `integerify: true` rounds numbers to whole numbers. Pure: a random
 * style draws from the generator it is given (seeded by the caller, or by
 * its own `seed` rule).
 */
import type { VariantParameter } from '../../config/config-model.js';
import { asNumber, PyFloat } from '../../config/py-scalars.js';
import { createSeededRandom, type SeededRandom } from './seeded-random.js';

/** More values than this in one parameter is a mistake, not a sweep. */
export const MAX_VARIANT_VALUES = 100_000;

export const VARIANT_STYLES = [
  'single',
  'multiple',
  'linear',
  'logspace',
  'random',
] as const;

export const RANDOM_DISTRIBUTIONS = ['uniform', 'loguniform', 'normal'];

export type VariantValues =
  { ok: true; values: unknown[] } | { ok: false; message: string };

export function variantValues(
  parameter: VariantParameter,
  random: SeededRandom,
): VariantValues {
  const { rules } = parameter;
  const what = `parameter "${parameter.name}" (${parameter.style})`;
  switch (parameter.style) {
    case 'single':
      if (rules.value === undefined || rules.value === null) {
        return fail(`${what} needs "rules.value"`);
      }
      return ok([toPlain(rules.value)]);
    case 'multiple': {
      if (!Array.isArray(rules.items) || rules.items.length === 0) {
        return fail(`${what} needs a non-empty list "rules.items"`);
      }
      if (rules.items.length > MAX_VARIANT_VALUES) return tooMany(what);
      return ok(rules.items.map((item) => integerify(parameter, item)));
    }
    case 'linear':
      return linear(parameter, what);
    case 'logspace':
      return logspace(parameter, what);
    case 'random': {
      const count = countOf(rules.count, 1);
      if (count === undefined) {
        return fail(`${what}: "count" must be a whole number of at least 1`);
      }
      if (count > MAX_VARIANT_VALUES) return tooMany(what);
      const sampler = randomSampler(parameter);
      if (!sampler.ok) return sampler;
      const rng = seededBy(parameter) ?? random;
      const values: unknown[] = [];
      for (let i = 0; i < count; i += 1) values.push(sampler.sample(rng));
      return ok(values);
    }
    default:
      return fail(
        `${what}: "style" must be one of ${VARIANT_STYLES.join(', ')}`,
      );
  }
}

/** One random value of a parameter, for a random search's child. */
export type VariantSampler =
  | { ok: true; sample: (random: SeededRandom) => unknown }
  | { ok: false; message: string };

/**
 * How a random search picks a parameter's value for each child: a fresh
 * draw of a `random` style, a pick among the values of the others.
 */
export function variantSampler(
  parameter: VariantParameter,
  random: SeededRandom,
): VariantSampler {
  if (parameter.style === 'random') return randomSampler(parameter);
  const listed = variantValues(parameter, random);
  if (!listed.ok) return listed;
  const values = listed.values;
  return {
    ok: true,
    sample: (rng) => values[rng.below(values.length)],
  };
}

/** The generator of a parameter with its own `seed` rule. */
export function seededBy(parameter: VariantParameter): SeededRandom | null {
  const seed = parameter.rules.seed;
  if (seed === undefined || seed === null) return null;
  const number = asNumber(seed);
  return createSeededRandom(
    `${parameter.name}:${number !== undefined ? String(number) : String(seed)}`,
  );
}

function randomSampler(parameter: VariantParameter): VariantSampler {
  const { rules } = parameter;
  const what = `parameter "${parameter.name}" (random)`;
  const min = asNumber(rules.min);
  const max = asNumber(rules.max);
  if (min === undefined || max === undefined || !(min <= max)) {
    return fail(`${what} needs numbers "min" and "max" with min ≤ max`);
  }
  const distribution =
    typeof rules.distribution === 'string'
      ? rules.distribution.toLowerCase().replace(/[-_ ]/g, '')
      : 'uniform';
  const round = (value: number) => integerify(parameter, tidy(value));
  switch (distribution) {
    case 'uniform':
      return { ok: true, sample: (rng) => round(rng.uniform(min, max)) };
    case 'loguniform':
    case 'logarithmic':
      if (!(min > 0)) {
        return fail(`${what}: a loguniform distribution needs min > 0`);
      }
      return {
        ok: true,
        sample: (rng) =>
          round(Math.exp(rng.uniform(Math.log(min), Math.log(max)))),
      };
    case 'normal':
    case 'gaussian': {
      // Centred in the range, 4 standard deviations wide, kept inside it.
      const mean = (min + max) / 2;
      const sd = (max - min) / 4;
      return {
        ok: true,
        sample: (rng) =>
          round(Math.min(max, Math.max(min, mean + sd * rng.normal()))),
      };
    }
    default:
      return fail(
        `${what}: "distribution" must be one of ${RANDOM_DISTRIBUTIONS.join(', ')}, got "${String(rules.distribution)}"`,
      );
  }
}

function linear(parameter: VariantParameter, what: string): VariantValues {
  const { rules } = parameter;
  const start = asNumber(rules.start ?? rules.min);
  const end = asNumber(rules.end ?? rules.max);
  const step = asNumber(rules.step);
  if (start === undefined || end === undefined || step === undefined) {
    return fail(`${what} needs numbers "start", "end" and "step"`);
  }
  if (step === 0 || Math.sign(end - start) * Math.sign(step) < 0) {
    return fail(
      `${what}: a step of ${step} never goes from ${start} to ${end}`,
    );
  }
  const count = Math.floor((end - start) / step + 1e-9) + 1;
  if (count > MAX_VARIANT_VALUES) return tooMany(what);
  const values: unknown[] = [];
  for (let i = 0; i < count; i += 1) {
    values.push(integerify(parameter, tidy(start + i * step)));
  }
  return ok(values);
}

function logspace(parameter: VariantParameter, what: string): VariantValues {
  const { rules } = parameter;
  const start = asNumber(rules.start ?? rules.min);
  const end = asNumber(rules.end ?? rules.max);
  const count = countOf(rules.count, undefined);
  const base = asNumber(rules.base ?? 10);
  if (start === undefined || end === undefined || base === undefined) {
    return fail(`${what} needs numbers "start" and "end" (exponents)`);
  }
  if (count === undefined) {
    return fail(`${what}: "count" must be a whole number of at least 1`);
  }
  if (count > MAX_VARIANT_VALUES) return tooMany(what);
  const values: unknown[] = [];
  for (let i = 0; i < count; i += 1) {
    const exponent =
      count === 1 ? start : start + (i * (end - start)) / (count - 1);
    values.push(integerify(parameter, tidy(base ** exponent)));
  }
  return ok(values);
}

/** A whole number ≥ 1, the fallback when absent, undefined when invalid. */
function countOf(
  value: unknown,
  fallback: number | undefined,
): number | undefined {
  if (value === undefined || value === null) return fallback;
  const number = asNumber(value);
  return number !== undefined && Number.isInteger(number) && number >= 1
    ? number
    : undefined;
}

function integerify(parameter: VariantParameter, value: unknown): unknown {
  const plain = toPlain(value);
  if (parameter.rules.integerify === true && typeof plain === 'number') {
    return Math.round(plain);
  }
  return plain;
}

/**
 * Plain JSON-able values: a YAML float becomes a number, a huge int its
 * decimal text (both convert to the parameter's type like a typed value).
 */
export function toPlain(value: unknown): unknown {
  if (value instanceof PyFloat) return value.value;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toPlain);
  return value;
}

/** 0.1 * 3 is 0.30000000000000004; a sweep means 0.3. */
export function tidy(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(15)) : value;
}

function ok(values: unknown[]): VariantValues {
  return { ok: true, values };
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}

function tooMany(what: string): { ok: false; message: string } {
  return fail(`${what} gives more than ${MAX_VARIANT_VALUES} values`);
}
