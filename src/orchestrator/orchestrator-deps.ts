import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StepQueues } from '../queue/step-jobs.js';
import type { ExecutionStore, RunStore } from '../store/index.js';

/**
 * What the orchestrator needs: the stores, the step queues and a Redis
 * connection for run locks and stored configuration texts. Both the server
 * (creating runs) and workers (advancing them) build one.
 */
export interface OrchestratorDeps {
  redis: Redis;
  /** Key prefix shared with the stores. @defaultValue `kiln` */
  prefix: string;
  executions: ExecutionStore;
  runs: RunStore;
  queues: StepQueues;
  logger: Logger;
  now?: () => Date;
  /**
   * Called after a run's stored state changed (created, advanced, a node
   * started or ended). The reporter uses it to queue a coalesced report;
   * it must not throw and must return quickly.
   */
  onRunChange?: (runId: string) => void;
}
