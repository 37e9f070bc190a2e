/**
 * How one step job ended for the worker: `stale` (the node had moved on:
 * nothing done), `held` (the run waits for approval: the job is dropped,
 * approval queues the node again), or the attempt's own end.
 */
export type NodeOutcome =
  'stale' | 'held' | 'reused' | 'complete' | 'error' | 'stopped';
