/**
 * What a task node hands to the nodes after it: its children's executions
 * taken together. Output → input edges deliver every completed child's
 * files (`[train.output.*.h5, evaluate.input.models]` gets one model per
 * child); a metadata or parameter edge delivers the list of the children's
 * values, in child order.
 */
import type { ExecutionRecord } from '../../model/execution.js';

export function mergeTaskExecutions(
  task: string,
  records: readonly ExecutionRecord[],
): ExecutionRecord | undefined {
  const first = records[0];
  if (!first) return undefined;
  const metrics: Record<string, unknown[]> = {};
  const parameters: Record<string, unknown[]> = {};
  for (const record of records) {
    for (const [key, value] of Object.entries(record.metrics)) {
      (metrics[key] ??= []).push(value);
    }
    for (const [key, value] of Object.entries(record.parameters)) {
      (parameters[key] ??= []).push(value);
    }
  }
  return {
    ...first,
    id: `${first.runId ?? ''}/${task}`,
    node: task,
    outputs: records.flatMap((record) => record.outputs),
    inputs: records.flatMap((record) => record.inputs),
    // Lists per key: the merged record is read by edges, never stored.
    metrics: metrics as unknown as ExecutionRecord['metrics'],
    parameters,
  };
}
