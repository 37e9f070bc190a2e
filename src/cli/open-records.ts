/**
 * Read access to the records for the inspection commands (`kiln
 * executions`, `logs`, `outputs`, `show`): the same Redis the runs used,
 * found through the settings or the private redis-server of the data dir.
 */
import { basename } from 'node:path';
import { createEngine, type Engine } from '../engine/create-engine.js';
import { createLogger } from '../log.js';
import type { ExecutionRecord } from '../model/execution.js';
import { readSettings } from '../settings.js';
import { KilnError } from '../errors.js';

export async function openRecords(): Promise<Engine> {
  const settings = readSettings(process.env);
  const logger = createLogger({ level: process.env.KILN_LOG_LEVEL ?? 'warn' });
  return createEngine({ settings, logger, runsSteps: false });
}

export class ExecutionNotFoundError extends KilnError {
  readonly code = 'EXECUTION_NOT_FOUND';
  constructor(reference: string) {
    super(
      `no execution "${reference}": use an id from \`kiln executions\`, or #N for this repository's counter`,
    );
  }
}

/** `#42` / `42` (this checkout's counter) or a full execution id. */
export async function findExecution(
  engine: Engine,
  reference: string,
  repository?: string,
): Promise<ExecutionRecord> {
  const counter = /^#?(\d+)$/.exec(reference);
  if (counter) {
    const repo = repository ?? `local/${basename(process.cwd())}`;
    const record = await engine.deps.executions.getExecutionByCounter(
      repo,
      Number(counter[1]),
    );
    if (record) return record;
  }
  const record = await engine.deps.executions.getExecution(reference);
  if (!record) throw new ExecutionNotFoundError(reference);
  return record;
}
