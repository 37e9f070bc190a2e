/**
 * The container part of an attempt: the runtime runs the step with its
 * output streamed to the store as it comes (logs, metrics), until it ends
 * or `signal` stops it. The last lines are not written here: they are
 * handed back to be stored with the attempt's end, in the same change.
 *
 * A step that prints faster than the store takes its lines is held back
 * (the sink's `drained`, see `OutputSink`): the runtime stops reading its
 * output while more than `MAX_UNSTORED_LOG_BYTES` wait to be stored. Past
 * the log size limit nothing is stored, so the rest of a flood is read (and
 * its metric lines parsed) as fast as the step prints it.
 */
import {
  createOutputRecorder,
  type RecorderStats,
} from '../metrics/output-recorder.js';
import type { MetricsEvent } from '../model/execution.js';
import type { LogLine } from '../model/log-line.js';
import {
  RuntimeError,
  type OutputSink,
  type RunResult,
  type StepSpec,
} from '../runtime/runtime.js';
import type { WorkerDeps } from './worker-deps.js';
import { whileStoreDown } from './while-store-down.js';

/**
 * Log text a step may have waiting for the store before its output is no
 * longer read (its lines' text plus `LINE_OVERHEAD_BYTES` each). Lines
 * waiting in memory take about three times that (line objects, the Redis
 * command being built), so 32 steps flooding at once hold about 25 MB.
 * It is still about eight batches of 100-byte lines (one write is a batch
 * of up to 200 lines), so the store never waits on the step: the L6
 * benchmark read as fast with it as with 1 MiB (43 MB/s), with 75 MB less
 * peak memory (docs/benchmarks.md, L6).
 */
export const MAX_UNSTORED_LOG_BYTES = 256 * 1024;
/** Counted for each line besides its text (the line object, its fields). */
const LINE_OVERHEAD_BYTES = 64;

export interface ContainerOutcome {
  result: RunResult;
  /** Last value per metric. */
  metrics: Record<string, number | string | boolean | null>;
  notes: string[];
  /** Output not yet stored: goes with the attempt's end. */
  tail: { lines: LogLine[]; metrics: MetricsEvent[] };
}

export async function runContainer(
  deps: Pick<WorkerDeps, 'runtime' | 'executions' | 'logger'>,
  options: {
    executionId: string;
    spec: StepSpec;
    secrets: readonly string[];
    signal: AbortSignal;
    /** A lost attempt's execution id: its container is adopted, not run. */
    adopt?: string;
    /**
     * Said to the user before the step's output: stored as `[kiln] …` log
     * lines first, and kept as the execution's notes.
     */
    preface?: readonly string[];
  },
): Promise<ContainerOutcome> {
  const metrics: Record<string, number | string | boolean | null> =
    Object.create(null);
  const tail: ContainerOutcome['tail'] = { lines: [], metrics: [] };
  let ended = false;
  // A metrics line is a log line too: its event goes out with its batch.
  let events: MetricsEvent[] = [];
  const writes = createWriteChain(deps, options.executionId, {
    maxUnstoredBytes: MAX_UNSTORED_LOG_BYTES,
  });
  const recorder = createOutputRecorder({
    secrets: options.secrets,
    onLogLines: (lines: LogLine[]) => {
      if (ended) {
        tail.lines.push(...lines);
        tail.metrics.push(...events);
      } else {
        writes.append(lines, events);
      }
      events = [];
    },
    onMetrics: (event: MetricsEvent) => {
      Object.assign(metrics, event.values);
      events.push(event);
    },
  });
  // A quiet step's last lines still reach the store (and the UI) soon.
  for (const line of options.preface ?? []) recorder.note(`[kiln] ${line}`);
  const flusher = setInterval(() => recorder.flush(), 500);
  flusher.unref();
  const sink: OutputSink = {
    stdout: (chunk) => recorder.stdout(chunk),
    stderr: (chunk) => recorder.stderr(chunk),
    drained: () => writes.drained(),
  };
  let result: RunResult;
  let stats: RecorderStats;
  try {
    result = options.adopt
      ? await adopt(deps, options.adopt, options, sink)
      : await deps.runtime.run(options.spec, sink, options.signal);
  } finally {
    clearInterval(flusher);
    ended = true;
    stats = recorder.end();
    tail.metrics.push(...events);
    await writes.flush();
  }
  return {
    result,
    metrics: { ...metrics },
    notes: [
      ...(options.preface ?? []),
      ...(result.notes ?? []),
      ...describeRecorderStats(stats),
    ],
    tail,
  };
}

async function adopt(
  deps: Pick<WorkerDeps, 'runtime'>,
  lost: string,
  options: { spec: StepSpec; signal: AbortSignal },
  sink: OutputSink,
): Promise<RunResult> {
  const result = await deps.runtime.adoptExecution?.(
    lost,
    options.spec,
    sink,
    options.signal,
  );
  if (!result) {
    throw new RuntimeError(
      'CONTAINER_LOST',
      `the container of lost execution ${lost} went away before it could be adopted; the step runs again`,
    );
  }
  return {
    ...result,
    notes: [
      `adopted the container of execution ${lost}, whose worker was lost: the step was not run again (its output before the takeover is in that execution's log)`,
      ...(result.notes ?? []),
    ],
  };
}

/**
 * Store writes in arrival order. `drained` is the output's backpressure:
 * undefined while at most `maxUnstoredBytes` of lines wait, else a promise
 * that resolves once half of that is left (so the stream is not paused and
 * resumed for every batch).
 */
function createWriteChain(
  deps: Pick<WorkerDeps, 'executions' | 'logger'>,
  executionId: string,
  options: { maxUnstoredBytes: number },
) {
  let chain: Promise<void> = Promise.resolve();
  let unstored = 0;
  let waiting: { promise: Promise<void>; resolve: () => void } | null = null;
  const settle = (bytes: number): void => {
    unstored -= bytes;
    if (waiting !== null && unstored <= options.maxUnstoredBytes / 2) {
      waiting.resolve();
      waiting = null;
    }
  };
  return {
    append(lines: LogLine[], metrics: MetricsEvent[]): void {
      let bytes = 0;
      for (const line of lines) bytes += line.text.length + LINE_OVERHEAD_BYTES;
      unstored += bytes;
      chain = chain
        .then(() =>
          // Lines wait in order while Redis is away; a retried append of
          // the same seq is skipped by the store.
          whileStoreDown(() =>
            deps.executions.appendOutput(executionId, { lines, metrics }),
          ),
        )
        .then(
          () => settle(bytes),
          (error: unknown) => {
            settle(bytes);
            deps.logger.error(
              { err: error, executionId },
              'could not store output',
            );
          },
        );
    },
    drained(): Promise<void> | undefined {
      if (unstored <= options.maxUnstoredBytes) return undefined;
      if (waiting === null) {
        let resolve!: () => void;
        const promise = new Promise<void>((done) => (resolve = done));
        waiting = { promise, resolve };
      }
      return waiting.promise;
    },
    flush: () => chain,
  };
}

function describeRecorderStats(stats: RecorderStats): string[] {
  const notes: string[] = [];
  if (stats.ignoredMetricLines > 0) {
    notes.push(
      `${stats.ignoredMetricLines} line(s) starting with { were not valid metrics JSON and were kept as log only`,
    );
  }
  if (stats.droppedValues > 0) {
    notes.push(
      `${stats.droppedValues} metric value(s) dropped (NaN/Infinity, nested too deep, or unsafe keys)`,
    );
  }
  if (stats.truncatedLines > 0) {
    notes.push(
      `${stats.truncatedLines} log line(s) longer than the line limit were truncated`,
    );
  }
  if (stats.partlyStoredSecrets > 0) {
    notes.push(
      `${stats.partlyStoredSecrets} secret(s) printed split across lines are stored in part: the line before the break was stored before the next one came; the rest is masked`,
    );
  }
  if (stats.droppedLogBytes > 0) {
    notes.push(
      `${stats.droppedLogBytes} bytes of log were not stored (log size limit)`,
    );
  }
  return notes;
}
