/** How one attempt at a node ended, as the step job reports it. */
export type NodeOutcome = 'stale' | 'reused' | 'complete' | 'error' | 'stopped';
