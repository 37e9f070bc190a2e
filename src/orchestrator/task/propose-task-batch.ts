/**
 * The parameter sets of a task's next batch of children. Every type but
 * `bayesian_tpe` has one batch (all its children, `expand-task-variants.ts`).
 * A `bayesian_tpe` task runs `execution-count` children (default 20) in
 * batches of `execution-batch-size` (default 4): the first
 * min(20, ⌈count/3⌉) are drawn at random, then each batch is proposed by
 * TPE from the finished children's results (`propose-tpe-batch.ts`).
 * Deterministic for a seed and batch number, so a batch decided twice is
 * the same batch.
 */
import type { Task, VariantParameter } from '../../config/config-model.js';
import {
  expandTaskVariants,
  MAX_TASK_CHILDREN,
} from './expand-task-variants.js';
import {
  proposeTpeBatch,
  searchSpaceOf,
  type Observation,
} from './propose-tpe-batch.js';
import { createSeededRandom } from './seeded-random.js';

export const DEFAULT_TPE_COUNT = 20;
export const DEFAULT_TPE_BATCH = 4;
const MAX_STARTUP = 20;

export interface ProposeTaskBatchOptions {
  task: Pick<
    Task,
    'type' | 'parameterSets' | 'executionCount' | 'executionBatchSize'
  >;
  /** The task's variants with the node's given values applied. */
  variants: readonly VariantParameter[];
  /** Seed of draws without a `seed` of their own (the run and node). */
  seed: string;
  /** The batch to propose (1 for the first). */
  batch: number;
  /** Finished children's values and results (lower loss is better). */
  observations: readonly Observation[];
  /** Children created so far. */
  created: number;
}

export type ProposedBatch =
  | { ok: true; sets: Array<Record<string, unknown>> }
  | { ok: false; message: string };

export function proposeTaskBatch(
  options: ProposeTaskBatchOptions,
): ProposedBatch {
  const { task } = options;
  if (task.type !== 'bayesian_tpe') {
    if (options.batch > 1) return { ok: true, sets: [] };
    return expandTaskVariants(
      {
        type: task.type,
        parameters: options.variants,
        ...(task.parameterSets ? { parameterSets: task.parameterSets } : {}),
        ...(task.executionCount !== undefined
          ? { executionCount: task.executionCount }
          : {}),
      },
      options.seed,
    );
  }
  const total = tpeCount(task);
  if (total > MAX_TASK_CHILDREN) {
    return {
      ok: false,
      message: `execution-count ${total} is more than the ${MAX_TASK_CHILDREN} children kiln runs per task`,
    };
  }
  const size = Math.max(
    1,
    Math.floor(task.executionBatchSize ?? DEFAULT_TPE_BATCH),
  );
  const count = Math.max(0, Math.min(size, total - options.created));
  if (count === 0) return { ok: true, sets: [] };
  const random = createSeededRandom(`${options.seed}/batch${options.batch}`);
  const space = searchSpaceOf(options.variants, random);
  if (!space.ok) return space;
  return {
    ok: true,
    sets: proposeTpeBatch({
      dimensions: space.dimensions,
      observations: options.observations,
      count,
      created: options.created,
      startup: Math.min(MAX_STARTUP, Math.ceil(total / 3)),
      random,
    }),
  };
}

/** Children a `bayesian_tpe` task runs in all. */
export function tpeCount(task: Pick<Task, 'executionCount'>): number {
  return Math.max(1, Math.floor(task.executionCount ?? DEFAULT_TPE_COUNT));
}
