/**
 * What a worker process remembers between steps, so a step costs no
 * re-reads of things that can't change: a run's header (its identity,
 * commit, configuration and parameters are fixed at creation), finished
 * executions (immutable once ended), and which images the engine already
 * has (re-checked after a short while, and forgotten when a run can't
 * find one).
 */
import type { ExecutionRecord } from '../model/execution.js';
import type { RunRecord } from '../model/run.js';
import type { PreparedImage, Runtime } from '../runtime/runtime.js';
import type { ExecutionStore, RunStore } from '../store/index.js';

export interface NodeCache {
  header(runId: string): Promise<RunRecord | null>;
  /** A finished execution (read once). */
  execution(id: string): Promise<ExecutionRecord | null>;
  /** Remembers an execution this process finished. */
  rememberExecution(record: ExecutionRecord): void;
  /** The image if the engine has it now (never pulls). */
  image(image: string): Promise<PreparedImage | null>;
  forgetImage(image: string): void;
}

const LIMIT = 2000;
const IMAGE_TTL_MS = 30_000;

export function createNodeCache(deps: {
  runs: RunStore;
  executions: ExecutionStore;
  runtime: Runtime;
}): NodeCache {
  const headers = new Map<string, RunRecord>();
  const executions = new Map<string, ExecutionRecord>();
  const images = new Map<string, { prepared: PreparedImage; at: number }>();

  function remember<T>(map: Map<string, T>, key: string, value: T): void {
    if (map.size >= LIMIT) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(key, value);
  }

  return {
    async header(runId) {
      const cached = headers.get(runId);
      if (cached) return cached;
      const header = await deps.runs.getRunHeader(runId);
      if (header) remember(headers, runId, header);
      return header;
    },
    async execution(id) {
      const cached = executions.get(id);
      if (cached) return cached;
      const record = await deps.executions.getExecution(id);
      if (record && record.status !== 'started') {
        remember(executions, id, record);
      }
      return record;
    },
    rememberExecution(record) {
      remember(executions, record.id, record);
    },
    async image(image) {
      const cached = images.get(image);
      if (cached && Date.now() - cached.at < IMAGE_TTL_MS) {
        return cached.prepared;
      }
      const found = await deps.runtime.findImage(image);
      if (found) remember(images, image, { prepared: found, at: Date.now() });
      else images.delete(image);
      return found;
    },
    forgetImage(image) {
      images.delete(image);
    },
  };
}
