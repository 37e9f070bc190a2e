/**
 * Bayesian optimisation for `bayesian_tpe` tasks: the Tree-structured
 * Parzen Estimator (Bergstra et al. 2011, as in hyperopt). Finished
 * children are split into the best quarter ("good") and the rest; each
 * parameter gets two Parzen densities, l(x) over the good values and g(x)
 * over the others (truncated Gaussians with adaptive widths, plus a broad
 * prior), and the next value is the one of 24 candidates drawn from l that
 * maximises l(x)/g(x). Parameters are treated independently.
 *
 * The first `startup` children are drawn at random (Valohai seeds its
 * optimiser with random search the same way). Within a batch, each
 * proposal is added to the observations as if it had the worst result
 * seen ("constant liar"), so one batch spreads out instead of proposing
 * the same point several times.
 *
 * Pure: the generator is given; the same inputs give the same proposals.
 */
import type { VariantParameter } from '../../config/config-model.js';
import { asNumber } from '../../config/py-scalars.js';
import type { SeededRandom } from './seeded-random.js';
import { tidy, toPlain, variantValues } from './variant-values.js';

export type SearchDimension =
  | { kind: 'fixed'; name: string; value: unknown }
  | { kind: 'choice'; name: string; values: unknown[] }
  | {
      kind: 'range';
      name: string;
      min: number;
      max: number;
      log: boolean;
      integer: boolean;
    };

export interface Observation {
  values: Readonly<Record<string, unknown>>;
  /** Lower is better. */
  loss: number;
}

/** Candidates drawn from l(x) per parameter (hyperopt's default). */
const CANDIDATES = 24;
const GAMMA = 0.25;

/**
 * The search space of a task's variant parameters: a `random` style is a
 * numeric range (log-scaled for `loguniform`, whole numbers with
 * `integerify`), a `single` a fixed value, the others a choice among their
 * values.
 */
export function searchSpaceOf(
  parameters: readonly VariantParameter[],
  random: SeededRandom,
):
  { ok: true; dimensions: SearchDimension[] } | { ok: false; message: string } {
  const dimensions: SearchDimension[] = [];
  for (const parameter of parameters) {
    if (parameter.style === 'random') {
      const min = asNumber(parameter.rules.min);
      const max = asNumber(parameter.rules.max);
      if (min === undefined || max === undefined || !(min <= max)) {
        return {
          ok: false,
          message: `parameter "${parameter.name}" (random) needs numbers "min" and "max" with min ≤ max`,
        };
      }
      const distribution = String(parameter.rules.distribution ?? 'uniform')
        .toLowerCase()
        .replace(/[-_ ]/g, '');
      const log = distribution === 'loguniform' && min > 0;
      dimensions.push({
        kind: 'range',
        name: parameter.name,
        min,
        max,
        log,
        integer: parameter.rules.integerify === true,
      });
      continue;
    }
    const listed = variantValues(parameter, random);
    if (!listed.ok) return listed;
    dimensions.push(
      listed.values.length === 1
        ? { kind: 'fixed', name: parameter.name, value: listed.values[0] }
        : { kind: 'choice', name: parameter.name, values: listed.values },
    );
  }
  return { ok: true, dimensions };
}

export interface ProposeOptions {
  dimensions: readonly SearchDimension[];
  observations: readonly Observation[];
  /** How many to propose. */
  count: number;
  /** Children created before this batch (they count towards `startup`). */
  created: number;
  /** Children drawn at random before the model is used. */
  startup: number;
  random: SeededRandom;
}

export function proposeTpeBatch(
  options: ProposeOptions,
): Array<Record<string, unknown>> {
  const { dimensions, random } = options;
  const observations = [...options.observations];
  const proposals: Array<Record<string, unknown>> = [];
  for (let i = 0; i < options.count; i += 1) {
    const useModel =
      options.created + i >= options.startup && observations.length >= 2;
    const proposal: Record<string, unknown> = {};
    if (!useModel) {
      for (const dimension of dimensions) {
        proposal[dimension.name] = sampleUniform(dimension, random);
      }
    } else {
      const sorted = [...observations].sort((a, b) => a.loss - b.loss);
      const good = Math.max(1, Math.min(25, Math.ceil(GAMMA * sorted.length)));
      const below = sorted.slice(0, good);
      const above = sorted.slice(good);
      for (const dimension of dimensions) {
        proposal[dimension.name] = proposeDimension(
          dimension,
          below,
          above,
          random,
        );
      }
    }
    proposals.push(proposal);
    // The constant liar: as bad as the worst seen so far.
    const worst = observations.reduce(
      (max, item) => Math.max(max, item.loss),
      Number.NEGATIVE_INFINITY,
    );
    if (Number.isFinite(worst)) {
      observations.push({ values: proposal, loss: worst });
    }
  }
  return proposals;
}

function sampleUniform(dimension: SearchDimension, random: SeededRandom) {
  switch (dimension.kind) {
    case 'fixed':
      return dimension.value;
    case 'choice':
      return dimension.values[random.below(dimension.values.length)];
    case 'range': {
      const [lo, hi] = bounds(dimension);
      return fromInternal(dimension, random.uniform(lo, hi));
    }
  }
}

function proposeDimension(
  dimension: SearchDimension,
  below: readonly Observation[],
  above: readonly Observation[],
  random: SeededRandom,
): unknown {
  switch (dimension.kind) {
    case 'fixed':
      return dimension.value;
    case 'choice': {
      const index = (observation: Observation) =>
        indexOfValue(dimension.values, observation.values[dimension.name]);
      const l = categorical(dimension.values.length, below.map(index));
      const g = categorical(dimension.values.length, above.map(index));
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < CANDIDATES; c += 1) {
        const candidate = pick(l, random);
        const score =
          Math.log(l[candidate] as number) - Math.log(g[candidate] as number);
        if (score > bestScore) {
          bestScore = score;
          best = candidate;
        }
      }
      return dimension.values[best];
    }
    case 'range': {
      const [lo, hi] = bounds(dimension);
      const point = (observation: Observation) =>
        toInternal(dimension, asNumber(observation.values[dimension.name]));
      const l = parzen(lo, hi, below.map(point));
      const g = parzen(lo, hi, above.map(point));
      let best = (lo + hi) / 2;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < CANDIDATES; c += 1) {
        const candidate = sampleMixture(l, lo, hi, random);
        const score =
          logDensity(l, lo, hi, candidate) - logDensity(g, lo, hi, candidate);
        if (score > bestScore) {
          bestScore = score;
          best = candidate;
        }
      }
      return fromInternal(dimension, best);
    }
  }
}

interface Mixture {
  mus: number[];
  sigmas: number[];
  weights: number[];
}

/**
 * hyperopt's adaptive Parzen estimator: one Gaussian per point (width the
 * larger gap to its neighbours, clipped) and a prior over the whole range.
 */
function parzen(
  lo: number,
  hi: number,
  points: ReadonlyArray<number | undefined>,
): Mixture {
  const width = hi - lo || 1;
  const priorMu = (lo + hi) / 2;
  const values = points
    .filter((value): value is number => value !== undefined)
    .map((value) => Math.min(hi, Math.max(lo, value)));
  const mus = [...values, priorMu].sort((a, b) => a - b);
  const priorIndex = mus.indexOf(priorMu);
  const minSigma = width / Math.min(100, mus.length + 1);
  const sigmas = mus.map((mu, i) => {
    if (i === priorIndex) return width;
    const left = i > 0 ? mu - (mus[i - 1] as number) : mu - lo;
    const right = i < mus.length - 1 ? (mus[i + 1] as number) - mu : hi - mu;
    return Math.min(width, Math.max(minSigma, left, right));
  });
  const weights = mus.map(() => 1 / mus.length);
  return { mus, sigmas, weights };
}

function sampleMixture(
  mixture: Mixture,
  lo: number,
  hi: number,
  random: SeededRandom,
): number {
  const component = pick(mixture.weights, random);
  const mu = mixture.mus[component] as number;
  const sigma = mixture.sigmas[component] as number;
  for (let tries = 0; tries < 16; tries += 1) {
    const value = mu + sigma * random.normal();
    if (value >= lo && value <= hi) return value;
  }
  return Math.min(hi, Math.max(lo, mu));
}

function logDensity(
  mixture: Mixture,
  lo: number,
  hi: number,
  x: number,
): number {
  let total = 0;
  mixture.mus.forEach((mu, i) => {
    const sigma = mixture.sigmas[i] as number;
    const mass = normalCdf((hi - mu) / sigma) - normalCdf((lo - mu) / sigma);
    const z = (x - mu) / sigma;
    const density = Math.exp(-0.5 * z * z) / (sigma * Math.sqrt(2 * Math.PI));
    total += ((mixture.weights[i] as number) * density) / Math.max(mass, 1e-12);
  });
  return Math.log(Math.max(total, 1e-300));
}

/** Category probabilities with one prior count spread over all of them. */
function categorical(size: number, indexes: readonly number[]): number[] {
  const counts = Array.from({ length: size }, () => 1 / size);
  for (const index of indexes) {
    if (index >= 0) counts[index] = (counts[index] as number) + 1;
  }
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.map((count) => count / total);
}

function pick(weights: readonly number[], random: SeededRandom): number {
  let left = random.next() * weights.reduce((sum, w) => sum + w, 0);
  for (let i = 0; i < weights.length; i += 1) {
    left -= weights[i] as number;
    if (left < 0) return i;
  }
  return weights.length - 1;
}

function indexOfValue(values: readonly unknown[], value: unknown): number {
  const key = JSON.stringify(toPlain(value));
  return values.findIndex((item) => JSON.stringify(toPlain(item)) === key);
}

function bounds(
  dimension: Extract<SearchDimension, { kind: 'range' }>,
): [number, number] {
  return dimension.log
    ? [Math.log(dimension.min), Math.log(dimension.max)]
    : [dimension.min, dimension.max];
}

function toInternal(
  dimension: Extract<SearchDimension, { kind: 'range' }>,
  value: number | undefined,
): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  return dimension.log ? Math.log(Math.max(value, dimension.min)) : value;
}

function fromInternal(
  dimension: Extract<SearchDimension, { kind: 'range' }>,
  value: number,
): number {
  const plain = dimension.log ? Math.exp(value) : value;
  const clamped = Math.min(dimension.max, Math.max(dimension.min, plain));
  return dimension.integer ? Math.round(clamped) : tidy(clamped);
}

/** Φ(x), Abramowitz–Stegun 7.1.26 (error < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t *
    (0.254829592 +
      t *
        (-0.284496736 +
          t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
