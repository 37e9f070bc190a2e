/**
 * Lenient reading of a stored run (see `parseExecutionRecord`): defaults
 * for missing fields, unknown fields kept, damaged nodes dropped. Reads
 * both layouts: nodes as `n:<name>` fields (schema 2) and the single
 * `nodes` array an older kiln wrote (schema 1, migrated at start).
 */
import { z } from 'zod';
import {
  NODE_STATUSES,
  RUN_STATUSES,
  type RunNodeState,
  type RunRecord,
} from '../model/run.js';
import { fromFields } from './record-fields.js';

const StoredNode = z
  .object({
    name: z.string(),
    step: z.string().catch(''),
    index: z.number().int().min(0).catch(0),
    status: z.enum(NODE_STATUSES).catch('error'),
    phase: z
      .enum(['pulling', 'inputs', 'running', 'uploading'])
      .optional()
      .catch(undefined),
    attempt: z.number().int().min(0).catch(0),
    generation: z.number().int().min(0).catch(0),
    failures: z.number().int().min(0).optional().catch(undefined),
    executionId: z.string().optional().catch(undefined),
    worker: z.string().optional().catch(undefined),
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
    kind: z.enum(['pipeline', 'step', 'task']).catch('pipeline'),
    name: z.string().catch(''),
    status: z.enum(RUN_STATUSES).catch('error'),
    parameters: z.record(z.string(), z.unknown()).catch({}),
    createdAt: z.string().catch(''),
  })
  .loose();

/** Hash fields of the run as stored (JSON values) → the record. */
export function parseRunRecord(
  id: string,
  hash: Readonly<Record<string, string>>,
): RunRecord {
  const header: Record<string, string> = {};
  const nodes: RunNodeState[] = [];
  for (const [field, text] of Object.entries(hash)) {
    if (field.startsWith('n:')) {
      const node = parseNodeState(text);
      if (node) nodes.push(node);
    } else if (
      !field.startsWith('w:') &&
      // A task's children specs and counts (task-scripts.ts).
      !field.startsWith('c:') &&
      !field.startsWith('tn:') &&
      !field.startsWith('m:') &&
      !INTERNAL.has(field)
    ) {
      header[field] = text;
    }
  }
  const fields = fromFields(header);
  if (Array.isArray(fields.nodes)) {
    // Schema 1: one array, in run order.
    fields.nodes.forEach((node, index) => {
      const parsed = parseNode({ index, ...(node as object) });
      if (parsed) nodes.push(parsed);
    });
  }
  delete fields.nodes;
  nodes.sort((a, b) => a.index - b.index);
  const parsed = StoredRun.parse(fields);
  return dropUndefined({ ...parsed, id, nodes }) as unknown as RunRecord;
}

const INTERNAL: ReadonlySet<string> = new Set([
  'left',
  'failed',
  'stopped',
  'schema',
]);

export function parseNodeState(text: string): RunNodeState | null {
  try {
    return parseNode(JSON.parse(text));
  } catch {
    return null;
  }
}

function parseNode(value: unknown): RunNodeState | null {
  const result = StoredNode.safeParse(value);
  return result.success ? (dropUndefined(result.data) as RunNodeState) : null;
}

function dropUndefined<T extends Record<string, unknown>>(record: T): T {
  for (const key of Object.keys(record)) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}
