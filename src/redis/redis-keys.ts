/**
 * Every Redis key and every BullMQ queue kiln uses, named in one place and
 * all under `KILN_REDIS_PREFIX`, so two kilns sharing one Redis never see
 * each other's runs, jobs, deliveries, tokens or secrets. User values
 * (repository, ref, commit, alias…) are URI-encoded so a `:` in them can't
 * reach into another key's space.
 *
 * Layout under `<prefix>:`
 * - `store:*`    runs, executions, logs, metrics, data, reuse index, event streams
 * - `bull:*`     BullMQ's own keys (its `prefix` option), one set per queue
 * - `config:*`   configuration texts by content hash
 * - `intake:*`, `delivery*`  webhook deliveries
 * - `redeliver:*` the redeliverer of GitHub's failed deliveries
 * - `github:*`   reporter state (status, comment and check ids, backoff,
 *                write budget, the chart-link key)
 * - `schedule*`  schedules, their ticks, the last push each branch's were synced from
 * - `secrets:*`, `api-token*`  per-repository secrets, API tokens
 * - `schema`     the store's schema version (see `migrate-store.ts`)
 *
 * Redis Cluster is not supported: scripts touch keys of one run and its
 * executions together, which would need hash tags.
 */
import { createHash } from 'node:crypto';

export interface RedisKeys {
  readonly prefix: string;
  /** BullMQ's `prefix` option: every queue of this kiln lives under it. */
  readonly bullPrefix: string;
  /** Store schema version (an integer). */
  /**
   * A random id written once into an empty store: a process that finds it
   * gone or changed knows Redis lost kiln's data (store-epoch.ts).
   */
  readonly epoch: string;
  readonly schema: string;
  /** Held by the process migrating the store (with-redis-lock.ts). */
  readonly schemaMigration: string;

  execution(id: string): string;
  executionCounters: string;
  executionsByCounter: string;
  /** All executions, scored by creation time. */
  executions: string;
  executionsOfRepository(repository: string): string;
  executionsOfRun(runId: string): string;
  log(id: string): string;
  metrics(id: string): string;
  datum(id: string): string;
  datumAlias(repository: string | undefined, alias: string): string;
  /** Executions that read a datum (lineage), scored by time. */
  datumConsumers(id: string): string;
  reuse(key: string): string;

  /** A run: header fields plus one field per node (`n:<name>`). */
  run(id: string): string;
  /** The run's event stream (capped). */
  runEvents(id: string): string;
  runCounters: string;
  runs: string;
  runsOfRepository(repository: string): string;
  runsOfRef(ref: string): string;
  runsOfCommit(commit: string): string;
  /** Runs of a branch: its pushes and the pull requests from it. */
  runsOfBranch(branch: string): string;
  /** Runs whose commit starts with these 7 characters. */
  runsOfShortCommit(prefix: string): string;
  /** Ends with `:`; the status is appended (also inside Lua). */
  runsOfStatusPrefix: string;
  activeRuns(repository: string, ref: string, name: string): string;
  /** Every run's status changes, for the runs list and the reporter. */
  events: string;
  /** Stop requests for running steps, read by every worker. */
  control: string;
  /**
   * An attempt's heartbeat (`PX` a few beats): present while a worker
   * still holds and runs it, whatever happened to the job's lock.
   */
  attemptBeat(executionId: string): string;
  /** When a takeover first found an attempt's heartbeat missing. */
  attemptSuspect(executionId: string): string;
  /** A scratch key for one list query, deleted by the same script. */
  scratch(token: string): string;

  config(hash: string): string;
  intakeEventTime(runId: string): string;
  delivery(deliveryId: string): string;
  deliveries: string;
  deliveryLog(deliveryId: string): string;
  /** Held by the server doing a redelivery pass (with-redis-lock.ts). */
  redeliverLock: string;
  /** Held by the live worker of this id (claim-worker-id.ts). */
  workerClaim(workerId: string): string;
  /**
   * Per webhook source (`app`, `repo:<owner/name>:<hook id>`): the
   * `delivered_at` (ms, GitHub's clock) the next pass lists back to.
   */
  redeliverCheckpoints: string;
  /** Present while a pass was done recently (PX): other servers skip. */
  redeliverRecent: string;
  /** Set once kiln asked GitHub to redeliver this GUID (expires). */
  redeliverAsked(guid: string): string;

  githubStatus(repository: string, sha: string, context: string): string;
  githubComment(
    repository: string,
    pullRequest: number,
    pipeline: string,
  ): string;
  /** The check run of one run (a re-run gets its own). */
  githubCheck(runId: string): string;
  githubBackoff: string;
  /**
   * Set while GitHub refused kiln (a rate limit, or its credentials) and no
   * request has gone through since: epoch ms until which one report job
   * is probing whether GitHub takes writes again (github-backoff.ts).
   */
  githubProbe: string;
  /** JSON `{since, reason}` while GitHub refuses kiln's credentials. */
  githubBroken: string;
  /** A lock: a run's report, or one PR comment, written by one job at a time. */
  githubLock(name: string): string;
  /** Times of recent writes to GitHub (a sorted set), shared by every kiln. */
  githubWrites: string;
  /** The secret chart image links are signed with. */
  githubChartKey: string;

  /** Every schedule: id → JSON record. */
  schedules: string;
  /** A schedule's ticks: tick time (ms) → JSON. */
  scheduleTicks(id: string): string;
  /** `repository\nbranch` → time (ms) of the push its schedules came from. */
  scheduleSyncs: string;

  secrets(repository: string): string;
  apiTokens: string;
  apiTokenHashes: string;
}

/** BullMQ queue names (their keys live under `RedisKeys.bullPrefix`). */
export const QUEUES = {
  steps: 'kiln-steps',
  intake: 'kiln-intake',
  reports: 'kiln-reports',
  /** One BullMQ job scheduler per schedule; a job per tick. */
  schedules: 'kiln-schedules',
} as const;

/** The private step queue of one `kiln run` (its steps never mix with a server's). */
export function localStepQueue(runId: string): string {
  return `kiln-local-${runId}`;
}

export const DEFAULT_REDIS_PREFIX = 'kiln';

export function createRedisKeys(prefix = DEFAULT_REDIS_PREFIX): RedisKeys {
  const store = `${prefix}:store:`;
  const enc = encodeURIComponent;
  return {
    prefix,
    bullPrefix: `${prefix}:bull`,
    schema: `${prefix}:schema`,
    schemaMigration: `${prefix}:schema:migrating`,
    epoch: `${prefix}:epoch`,

    execution: (id) => `${store}exec:${id}`,
    executionCounters: `${store}exec-counters`,
    executionsByCounter: `${store}exec-by-counter`,
    executions: `${store}execs`,
    executionsOfRepository: (repository) =>
      `${store}execs-of-repo:${enc(repository)}`,
    executionsOfRun: (runId) => `${store}execs-of-run:${enc(runId)}`,
    log: (id) => `${store}log:${id}`,
    metrics: (id) => `${store}metrics:${id}`,
    datum: (id) => `${store}datum:${id}`,
    datumAlias: (repository, alias) =>
      `${store}datum-alias:${enc(repository ?? '')}:${enc(alias)}`,
    datumConsumers: (id) => `${store}datum-consumers:${id}`,
    // Reuse keys are long and caller-made; a digest keeps keys small.
    reuse: (key) =>
      `${store}reuse:${createHash('sha256').update(key).digest('hex')}`,

    run: (id) => `${store}run:${id}`,
    runEvents: (id) => `${store}run-events:${id}`,
    runCounters: `${store}run-counters`,
    runs: `${store}runs`,
    runsOfRepository: (repository) => `${store}runs-of-repo:${enc(repository)}`,
    runsOfRef: (ref) => `${store}runs-of-ref:${enc(ref)}`,
    runsOfCommit: (commit) => `${store}runs-of-commit:${enc(commit)}`,
    runsOfBranch: (branch) => `${store}runs-of-branch:${enc(branch)}`,
    runsOfShortCommit: (prefix) =>
      `${store}runs-of-commit7:${enc(prefix.slice(0, 7))}`,
    runsOfStatusPrefix: `${store}runs-of-status:`,
    activeRuns: (repository, ref, name) =>
      `${store}active-runs:${enc(repository)}:${enc(ref)}:${enc(name)}`,
    events: `${store}events`,
    control: `${store}control`,
    attemptBeat: (executionId) => `${store}beat:${executionId}`,
    attemptSuspect: (executionId) => `${store}beat-missed:${executionId}`,
    scratch: (token) => `${store}scratch:${token}`,

    config: (hash) => `${prefix}:config:${hash}`,
    intakeEventTime: (runId) => `${prefix}:intake:event-time:${runId}`,
    delivery: (deliveryId) => `${prefix}:delivery:${deliveryId}`,
    deliveries: `${prefix}:deliveries`,
    deliveryLog: (deliveryId) => `${prefix}:delivery-log:${deliveryId}`,
    redeliverLock: `${prefix}:redeliver:lock`,
    workerClaim: (workerId) => `${prefix}:worker:${enc(workerId)}`,
    redeliverCheckpoints: `${prefix}:redeliver:checkpoints`,
    redeliverRecent: `${prefix}:redeliver:recent`,
    redeliverAsked: (guid) => `${prefix}:redeliver:asked:${enc(guid)}`,

    githubStatus: (repository, sha, context) =>
      `${prefix}:github:status:${repository}:${sha}:${context}`,
    githubComment: (repository, pullRequest, pipeline) =>
      `${prefix}:github:comment:${repository}:${pullRequest}:${enc(pipeline)}`,
    githubCheck: (runId) => `${prefix}:github:check-run:${enc(runId)}`,
    githubBackoff: `${prefix}:github:backoff-until`,
    githubProbe: `${prefix}:github:probe`,
    githubBroken: `${prefix}:github:broken`,
    githubLock: (name) => `${prefix}:github:lock:${enc(name)}`,
    githubWrites: `${prefix}:github:writes`,
    githubChartKey: `${prefix}:github:chart-key`,

    schedules: `${prefix}:schedules`,
    scheduleTicks: (id) => `${prefix}:schedule-ticks:${id}`,
    scheduleSyncs: `${prefix}:schedule-syncs`,

    secrets: (repository) => `${prefix}:secrets:${repository}`,
    apiTokens: `${prefix}:api-tokens`,
    apiTokenHashes: `${prefix}:api-token-hashes`,
  };
}

/** Field of `executionsByCounter`: unambiguous for any repository name. */
export function counterField(repository: string, counter: number): string {
  return JSON.stringify([repository, counter]);
}
