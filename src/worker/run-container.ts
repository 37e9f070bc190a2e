/**
 * The container part of an attempt: the runtime runs the step with its
 * output streamed to the store as it comes (logs, metrics), until it ends
 * or `signal` stops it. The last lines are not written here: they are
 * handed back to be stored with the attempt's end, in the same change.
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
  const writes = createWriteChain(deps, options.executionId);
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
  let result: RunResult;
  let stats: RecorderStats;
  try {
    result = options.adopt
      ? await adopt(deps, options.adopt, options, recorder)
      : await deps.runtime.run(options.spec, recorder, options.signal);
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

/** Store writes in arrival order, without blocking the output stream. */
function createWriteChain(
  deps: Pick<WorkerDeps, 'executions' | 'logger'>,
  executionId: string,
) {
  let chain: Promise<void> = Promise.resolve();
  const queue = (write: () => Promise<unknown>) => {
    chain = chain.then(write).then(
      () => undefined,
      (error: unknown) => {
        deps.logger.error(
          { err: error, executionId },
          'could not store output',
        );
      },
    );
  };
  return {
    append: (lines: LogLine[], metrics: MetricsEvent[]) =>
      queue(() =>
        // Lines wait in order while Redis is away; a retried append of the
        // same seq is skipped by the store.
        whileStoreDown(() =>
          deps.executions.appendOutput(executionId, { lines, metrics }),
        ),
      ),
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
