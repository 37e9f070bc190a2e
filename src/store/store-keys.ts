/**
 * Every Redis key the stores use, in one place. All live under
 * `<prefix>:store:` so BullMQ queues and other kiln keys sharing the prefix
 * can't collide with them. User values (repository, ref, commit, alias)
 * are URI-encoded so a `:` in them can't reach into another key's space.
 */
import { createHash } from 'node:crypto';

export interface StoreKeys {
  execution(id: string): string;
  executionCounters: string;
  executionsByCounter: string;
  executions: string;
  executionsOfRepository(repository: string): string;
  executionsOfRun(runId: string): string;
  log(id: string): string;
  metrics(id: string): string;
  datum(id: string): string;
  datumAlias(repository: string | undefined, alias: string): string;
  reuse(key: string): string;
  run(id: string): string;
  runCounters: string;
  runs: string;
  runsOfRepository(repository: string): string;
  runsOfRef(ref: string): string;
  runsOfCommit(commit: string): string;
  /** Ends with `:`; the status is appended (also inside Lua). */
  runsOfStatusPrefix: string;
  activeRuns(repository: string, ref: string, name: string): string;
  /** A scratch key for one list query, deleted by the same script. */
  scratch(token: string): string;
}

export function createStoreKeys(prefix = 'kiln'): StoreKeys {
  const base = `${prefix}:store:`;
  const enc = encodeURIComponent;
  return {
    execution: (id) => `${base}exec:${id}`,
    executionCounters: `${base}exec-counters`,
    executionsByCounter: `${base}exec-by-counter`,
    executions: `${base}execs`,
    executionsOfRepository: (repository) =>
      `${base}execs-of-repo:${enc(repository)}`,
    executionsOfRun: (runId) => `${base}execs-of-run:${enc(runId)}`,
    log: (id) => `${base}log:${id}`,
    metrics: (id) => `${base}metrics:${id}`,
    datum: (id) => `${base}datum:${id}`,
    datumAlias: (repository, alias) =>
      `${base}datum-alias:${enc(repository ?? '')}:${enc(alias)}`,
    // Reuse keys are long and caller-made; a digest keeps keys small.
    reuse: (key) =>
      `${base}reuse:${createHash('sha256').update(key).digest('hex')}`,
    run: (id) => `${base}run:${id}`,
    runCounters: `${base}run-counters`,
    runs: `${base}runs`,
    runsOfRepository: (repository) => `${base}runs-of-repo:${enc(repository)}`,
    runsOfRef: (ref) => `${base}runs-of-ref:${enc(ref)}`,
    runsOfCommit: (commit) => `${base}runs-of-commit:${enc(commit)}`,
    runsOfStatusPrefix: `${base}runs-of-status:`,
    activeRuns: (repository, ref, name) =>
      `${base}active-runs:${enc(repository)}:${enc(ref)}:${enc(name)}`,
    scratch: (token) => `${base}scratch:${token}`,
  };
}

/** Field of `executionsByCounter`: unambiguous for any repository name. */
export function counterField(repository: string, counter: number): string {
  return JSON.stringify([repository, counter]);
}
