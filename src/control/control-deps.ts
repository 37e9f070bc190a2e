import type { Logger } from 'pino';
import type { StepQueue } from '../queue/step-jobs.js';
import type { ConfigStore, ExecutionStore, RunStore } from '../store/index.js';

/**
 * What the control plane needs: ports only. It carries out what the pure
 * machines of `orchestrator/` decide — the run store applies each change
 * as a compare-and-set, the step queue receives the nodes that became
 * ready. Built by the composition root (`engine/`) for the server, the
 * workers and `kiln run`, and by tests with their own adapters.
 */
export interface ControlDeps {
  runs: RunStore;
  executions: ExecutionStore;
  configs: ConfigStore;
  steps: StepQueue;
  logger: Logger;
  /** @defaultValue `() => new Date()` */
  now?: () => Date;
}

export function nowIso(deps: Pick<ControlDeps, 'now'>): string {
  return (deps.now?.() ?? new Date()).toISOString();
}
