/** Why an execution ended; recorded on the execution and shown to users. */
export type EndReason =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'out-of-memory'; limitBytes: number | null }
  | { kind: 'timed-out'; afterMs: number }
  | { kind: 'no-output'; afterMs: number }
  | { kind: 'stopped' }
  /** The step wrote more than a per-execution disk limit allows. */
  | {
      kind: 'disk-limit';
      what: 'outputs' | 'root filesystem';
      limitBytes: number;
    }
  | { kind: 'infra-error'; message: string };

/** The end as one line for people: `failed: exit code 2`, `out of memory (limit 512 MiB)`. */
export function describeEnd(reason: EndReason): string {
  switch (reason.kind) {
    case 'exited':
      if (reason.exitCode === 0) return 'exited 0';
      // 128 + N: the shell's way of saying signal N ended the program.
      if (reason.exitCode === 143) return 'terminated: SIGTERM (exit code 143)';
      if (reason.exitCode === 137) return 'killed: SIGKILL (exit code 137)';
      return `failed: exit code ${reason.exitCode}`;
    case 'out-of-memory':
      return `out of memory${reason.limitBytes ? ` (limit ${Math.round(reason.limitBytes / 1048576)} MiB)` : ''}`;
    case 'timed-out':
      return `timed out after ${Math.round(reason.afterMs / 1000)}s`;
    case 'no-output':
      return `no output for ${Math.round(reason.afterMs / 1000)}s`;
    case 'stopped':
      return 'stopped';
    case 'disk-limit':
      return `${reason.what} over the limit of ${formatMiB(reason.limitBytes)} per execution`;
    case 'infra-error':
      return `infrastructure error: ${reason.message}`;
  }
}

function formatMiB(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : `${Math.round(bytes / 1024 ** 2)} MiB`;
}
