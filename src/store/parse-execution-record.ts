/**
 * Lenient reading of a stored execution: fields an older kiln didn't write
 * get defaults, fields a newer kiln added are kept, a damaged field falls
 * back to its default instead of hiding the whole record.
 */
import { z } from 'zod';
import type { ExecutionRecord } from '../model/execution.js';

const scalar = z.union([z.number(), z.string(), z.boolean(), z.null()]);

const StoredExecution = z
  .object({
    counter: z.number().catch(0),
    repository: z.string().catch(''),
    commit: z.string().catch(''),
    step: z.string().catch(''),
    runId: z.string().optional().catch(undefined),
    node: z.string().optional().catch(undefined),
    image: z.string().catch(''),
    imageDigest: z.string().nullable().catch(null),
    command: z.array(z.string()).catch([]),
    parameters: z.record(z.string(), z.unknown()).catch({}),
    inputs: z.array(z.looseObject({ input: z.string() })).catch([]),
    outputs: z.array(z.looseObject({ path: z.string() })).catch([]),
    metrics: z.record(z.string(), scalar).catch({}),
    status: z
      .enum(['created', 'queued', 'started', 'complete', 'error', 'stopped'])
      .catch('error'),
    endReason: z.looseObject({ kind: z.string() }).optional().catch(undefined),
    reusedFrom: z.string().optional().catch(undefined),
    runtime: z.enum(['docker', 'kubernetes', 'local']).catch('docker'),
    host: z.string().catch(''),
    worker: z.string().optional().catch(undefined),
    attempt: z.number().catch(1),
    createdAt: z.string().catch(''),
    startedAt: z.string().optional().catch(undefined),
    endedAt: z.string().optional().catch(undefined),
  })
  .loose();

export function parseExecutionRecord(
  id: string,
  fields: Record<string, unknown>,
): ExecutionRecord {
  const parsed = StoredExecution.parse(fields);
  // The nested shapes are checked loosely (kept as written); the casts
  // accept what an older or newer kiln stored there.
  return dropUndefined({ ...parsed, id }) as unknown as ExecutionRecord;
}

function dropUndefined<T extends Record<string, unknown>>(record: T): T {
  for (const key of Object.keys(record)) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}
