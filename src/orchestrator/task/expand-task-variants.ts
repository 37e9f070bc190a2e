/**
 * The children of a task: one set of parameter values per child, by the
 * task's type (Valohai's semantics):
 *
 * - `grid_search`: every combination of the parameters' values (the first
 *   parameter changes slowest, as Python's `itertools.product`).
 * - `manual_search`: the `parameter-sets` as given, or else the i-th value
 *   of every parameter for the i-th child.
 * - `random_search`: `execution-count` children (default: the largest
 *   `count` of its `random` parameters), each drawing every parameter
 *   once: a `random` style from its distribution, the others among their
 *   values.
 * - `distributed`: `execution-count` members (default: one per grid
 *   combination), member k running combination k (cycling).
 * - `bayesian_tpe`: proposed batch by batch (`propose-tpe-batch.ts`).
 *
 * Pure and deterministic: the same task and seed give the same children.
 */
import type { VariantParameter } from '../../config/config-model.js';
import { asNumber } from '../../config/py-scalars.js';
import { createSeededRandom, type SeededRandom } from './seeded-random.js';
import {
  seededBy,
  toPlain,
  variantSampler,
  variantValues,
} from './variant-values.js';

/** A sweep larger than this is refused (a typo'd range, not a plan). */
export const MAX_TASK_CHILDREN = 10_000;

export const TASK_TYPES = [
  'grid_search',
  'random_search',
  'bayesian_tpe',
  'manual_search',
  'distributed',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export interface TaskVariants {
  type: string;
  parameters: readonly VariantParameter[];
  parameterSets?: ReadonlyArray<Record<string, unknown>>;
  executionCount?: number;
}

export type ExpandedTask =
  | { ok: true; sets: Array<Record<string, unknown>> }
  | { ok: false; message: string };

/** The generator of one parameter: its own `seed`, else the task's. */
export function parameterRandom(
  parameter: VariantParameter,
  seed: string,
): SeededRandom {
  return seededBy(parameter) ?? createSeededRandom(`${seed}:${parameter.name}`);
}

export function expandTaskVariants(
  task: TaskVariants,
  seed: string,
): ExpandedTask {
  switch (task.type) {
    case 'grid_search':
      return grid(task, seed);
    case 'manual_search':
      return manual(task, seed);
    case 'random_search':
      return randomSearch(task, seed);
    case 'distributed': {
      const combinations = grid(task, seed);
      if (!combinations.ok) return combinations;
      const count = task.executionCount ?? combinations.sets.length;
      if (count > MAX_TASK_CHILDREN) return tooMany(count);
      const sets: Array<Record<string, unknown>> = [];
      for (let k = 0; k < count; k += 1) {
        sets.push({ ...combinations.sets[k % combinations.sets.length] });
      }
      return { ok: true, sets };
    }
    default:
      return {
        ok: false,
        message: `task type "${task.type}" is not expanded up front`,
      };
  }
}

function valueLists(
  task: TaskVariants,
  seed: string,
): { ok: true; lists: unknown[][] } | { ok: false; message: string } {
  const lists: unknown[][] = [];
  for (const parameter of task.parameters) {
    const result = variantValues(parameter, parameterRandom(parameter, seed));
    if (!result.ok) return result;
    lists.push(result.values);
  }
  return { ok: true, lists };
}

function grid(task: TaskVariants, seed: string): ExpandedTask {
  const listed = valueLists(task, seed);
  if (!listed.ok) return listed;
  let size = 1;
  for (const list of listed.lists) {
    size *= list.length;
    if (size > MAX_TASK_CHILDREN) return tooMany(size);
  }
  const names = task.parameters.map((parameter) => parameter.name);
  const sets: Array<Record<string, unknown>> = [];
  for (let k = 0; k < size; k += 1) {
    const set: Record<string, unknown> = {};
    let rest = k;
    for (let i = names.length - 1; i >= 0; i -= 1) {
      const list = listed.lists[i] as unknown[];
      set[names[i] as string] = list[rest % list.length];
      rest = Math.floor(rest / list.length);
    }
    sets.push(ordered(names, set));
  }
  return { ok: true, sets };
}

function manual(task: TaskVariants, seed: string): ExpandedTask {
  if (task.parameterSets && task.parameterSets.length > 0) {
    if (task.parameterSets.length > MAX_TASK_CHILDREN) {
      return tooMany(task.parameterSets.length);
    }
    return {
      ok: true,
      sets: task.parameterSets.map((set) => {
        const plain: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(set)) {
          plain[name] = toPlain(value);
        }
        return plain;
      }),
    };
  }
  const listed = valueLists(task, seed);
  if (!listed.ok) return listed;
  const lengths = listed.lists.map((list) => list.length);
  const count = Math.max(1, ...lengths);
  const uneven = task.parameters.find(
    (_, i) => lengths[i] !== 1 && lengths[i] !== count,
  );
  if (uneven) {
    return {
      ok: false,
      message: `manual_search takes the i-th value of every parameter for the i-th child, but "${uneven.name}" has ${lengths[task.parameters.indexOf(uneven)]} values and another ${count}; give each the same number (or use parameter-sets)`,
    };
  }
  if (count > MAX_TASK_CHILDREN) return tooMany(count);
  const sets: Array<Record<string, unknown>> = [];
  for (let k = 0; k < count; k += 1) {
    const set: Record<string, unknown> = {};
    task.parameters.forEach((parameter, i) => {
      const list = listed.lists[i] as unknown[];
      set[parameter.name] = list.length === 1 ? list[0] : list[k];
    });
    sets.push(set);
  }
  return { ok: true, sets };
}

function randomSearch(task: TaskVariants, seed: string): ExpandedTask {
  const counts = task.parameters
    .filter((parameter) => parameter.style === 'random')
    .map((parameter) => asNumber(parameter.rules.count) ?? 1);
  const count = task.executionCount ?? Math.max(1, ...counts);
  if (count > MAX_TASK_CHILDREN) return tooMany(count);
  const samplers = [];
  for (const parameter of task.parameters) {
    const random = parameterRandom(parameter, seed);
    const sampler = variantSampler(parameter, random);
    if (!sampler.ok) return sampler;
    samplers.push({ name: parameter.name, sample: sampler.sample, random });
  }
  const sets: Array<Record<string, unknown>> = [];
  for (let k = 0; k < count; k += 1) {
    const set: Record<string, unknown> = {};
    for (const sampler of samplers) {
      set[sampler.name] = sampler.sample(sampler.random);
    }
    sets.push(set);
  }
  return { ok: true, sets };
}

function ordered(
  names: readonly string[],
  set: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const name of names) result[name] = set[name];
  return result;
}

function tooMany(count: number): { ok: false; message: string } {
  return {
    ok: false,
    message: `the task would have ${count} children; kiln runs at most ${MAX_TASK_CHILDREN} per task`,
  };
}
