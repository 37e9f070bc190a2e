/**
 * Lenient reading of a stored run (see `parseExecutionRecord`): defaults
 * for missing fields, unknown fields kept, damaged nodes dropped.
 */
import { z } from 'zod';
import type { RunRecord } from '../model/run.js';

const StoredNode = z
  .object({
    name: z.string(),
    step: z.string().catch(''),
    status: z
      .enum([
        'pending',
        'queued',
        'started',
        'complete',
        'error',
        'stopped',
        'skipped',
        'reused',
      ])
      .catch('error'),
    executionId: z.string().optional().catch(undefined),
    attempt: z.number().catch(1),
    startedAt: z.string().optional().catch(undefined),
    endedAt: z.string().optional().catch(undefined),
    message: z.string().optional().catch(undefined),
  })
  .loose();

const StoredRun = z
  .object({
    counter: z.number().catch(0),
    repository: z.string().catch(''),
    commit: z.string().catch(''),
    ref: z.string().optional().catch(undefined),
    kind: z.enum(['pipeline', 'step']).catch('pipeline'),
    name: z.string().catch(''),
    status: z
      .enum([
        'created',
        'waiting-approval',
        'queued',
        'running',
        'complete',
        'error',
        'stopped',
        'cancelled',
      ])
      .catch('error'),
    parameters: z.record(z.string(), z.unknown()).catch({}),
    nodes: z.array(z.unknown()).catch([]),
    createdAt: z.string().catch(''),
  })
  .loose();

export function parseRunRecord(
  id: string,
  fields: Record<string, unknown>,
): RunRecord {
  const parsed = StoredRun.parse(fields);
  const nodes = parsed.nodes.flatMap((node) => {
    const result = StoredNode.safeParse(node);
    return result.success ? [dropUndefined(result.data)] : [];
  });
  return dropUndefined({ ...parsed, id, nodes }) as unknown as RunRecord;
}

function dropUndefined<T extends Record<string, unknown>>(record: T): T {
  for (const key of Object.keys(record)) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}
