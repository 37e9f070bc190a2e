/** Why an execution ended; recorded on the execution and shown to users. */
export type EndReason =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'out-of-memory'; limitBytes: number | null }
  | { kind: 'timed-out'; afterMs: number }
  | { kind: 'no-output'; afterMs: number }
  | { kind: 'stopped' }
  | { kind: 'infra-error'; message: string };
