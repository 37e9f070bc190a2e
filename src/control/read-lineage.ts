/**
 * Lineage of one execution: for each input, the execution that produced
 * it (a `datum://` input names its datum, whose record names the
 * execution); for each output, the executions that read it (the datum's
 * consumers, recorded when a worker resolves its inputs, plus the other
 * executions of the same run, which covers records made before consumers
 * were recorded). Reads only.
 */
import type { ExecutionRecord, ExecutionStatus } from '../model/execution.js';
import type { ExecutionStore } from '../store/index.js';

/** An execution as lineage shows it: enough to name and link it. */
export interface LineageExecution {
  executionId: string;
  counter: number;
  repository: string;
  step: string;
  runId?: string;
  node?: string;
  status: ExecutionStatus;
}

export interface InputLineage {
  input: string;
  name: string;
  uri: string;
  sha256: string;
  size: number;
  /** The execution whose output this was (datum inputs), else null. */
  producer: (LineageExecution & { path: string }) | null;
}

export interface OutputLineage {
  path: string;
  datum: string;
  sha256: string;
  size: number;
  /** Executions that read it, newest first, with the input it went to. */
  consumers: Array<LineageExecution & { input: string; name: string }>;
}

export interface ExecutionLineage {
  executionId: string;
  inputs: InputLineage[];
  outputs: OutputLineage[];
}

const MAX_CONSUMERS = 200;

export async function readLineage(
  deps: { executions: ExecutionStore },
  execution: ExecutionRecord,
): Promise<ExecutionLineage> {
  const { executions } = deps;
  const records = new Map<string, ExecutionRecord | null>();
  const load = async (id: string) => {
    if (!records.has(id)) records.set(id, await executions.getExecution(id));
    return records.get(id) ?? null;
  };

  const inputs = await Promise.all(
    execution.inputs.map(async (file): Promise<InputLineage> => {
      const base = {
        input: file.input,
        name: file.name,
        uri: file.uri,
        sha256: file.sha256,
        size: file.size,
      };
      const id = datumIdOf(file.uri);
      const datum = id ? await executions.resolveDatum(id) : null;
      const producer = datum ? await load(datum.executionId) : null;
      return {
        ...base,
        producer: producer
          ? { ...describe(producer), path: datum?.path ?? '' }
          : null,
      };
    }),
  );

  // Siblings of the same run: the consumers of pipeline edges.
  const siblings = execution.runId
    ? await executions.listExecutions({ runId: execution.runId, limit: 1000 })
    : [];
  for (const sibling of siblings) records.set(sibling.id, sibling);

  const outputs = await Promise.all(
    execution.outputs.map(async (output): Promise<OutputLineage> => {
      const id = datumIdOf(output.datum);
      const ids = new Set(
        id ? await executions.listConsumers(id, MAX_CONSUMERS) : [],
      );
      for (const sibling of siblings) {
        if (sibling.inputs.some((file) => file.uri === output.datum))
          ids.add(sibling.id);
      }
      const consumers: OutputLineage['consumers'] = [];
      for (const consumerId of ids) {
        const record = await load(consumerId);
        if (!record || record.id === execution.id) continue;
        for (const file of record.inputs) {
          if (file.uri !== output.datum) continue;
          consumers.push({
            ...describe(record),
            input: file.input,
            name: file.name,
          });
        }
      }
      consumers.sort((a, b) => b.counter - a.counter);
      return {
        path: output.path,
        datum: output.datum,
        sha256: output.sha256,
        size: output.size,
        consumers: consumers.slice(0, MAX_CONSUMERS),
      };
    }),
  );
  return { executionId: execution.id, inputs, outputs };
}

function datumIdOf(uri: string): string | undefined {
  return uri.startsWith('datum://') && uri.length > 8
    ? uri.slice(8)
    : undefined;
}

function describe(record: ExecutionRecord): LineageExecution {
  return {
    executionId: record.id,
    counter: record.counter,
    repository: record.repository,
    step: record.step,
    ...(record.runId !== undefined ? { runId: record.runId } : {}),
    ...(record.node !== undefined ? { node: record.node } : {}),
    status: record.status,
  };
}
