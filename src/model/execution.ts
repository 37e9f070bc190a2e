/**
 * The record of one execution: everything needed to reproduce and compare
 * it later (Valohai's versioning model). Stored in Redis by the store.
 */
import type { EndReason } from './end-reason.js';

export type ExecutionStatus =
  'created' | 'queued' | 'started' | 'complete' | 'error' | 'stopped';

export const TERMINAL_STATUSES: readonly ExecutionStatus[] = [
  'complete',
  'error',
  'stopped',
];

export interface InputFileRecord {
  /** Input name (the folder under /valohai/inputs). */
  input: string;
  /** File name (or path, for a glob's files) inside the input folder. */
  name: string;
  /** What was read, never with credentials: `s3://bucket/key`, an https URL, `datum://…`. */
  uri: string;
  size: number;
  sha256: string;
  /**
   * The ETag of the object or URL read, when the source gave one; for a
   * `datum://` input in an S3 artifact store, of the store's object.
   */
  etag?: string;
  /** The S3 object version read (or the store's object), on a versioned bucket. */
  versionId?: string;
}

export interface OutputFileRecord {
  /** Path relative to /valohai/outputs. */
  path: string;
  size: number;
  sha256: string;
  tags: string[];
  alias?: string;
  /** `datum://<id>` that later executions use to read it. */
  datum: string;
}

/** One metrics event: a JSON object a step printed on stdout. */
export interface MetricsEvent {
  /** ISO-8601 UTC time the line was read. */
  time: string;
  values: Record<string, number | string | boolean | null>;
}

export interface ExecutionRecord {
  id: string;
  /** Per-repository counter (#42). */
  counter: number;
  repository: string;
  /** Commit SHA, or `~<sha256>` of the tree for an ad-hoc run. */
  commit: string;
  step: string;
  /** Pipeline run and node, when part of a pipeline. */
  runId?: string;
  node?: string;
  image: string;
  imageDigest: string | null;
  /** Resolved commands, as run. */
  command: string[];
  parameters: Record<string, unknown>;
  inputs: InputFileRecord[];
  outputs: OutputFileRecord[];
  /** Last value per key. */
  metrics: Record<string, number | string | boolean | null>;
  status: ExecutionStatus;
  endReason?: EndReason;
  /** Reused from an earlier execution (pipeline `reuse-executions`). */
  reusedFrom?: string;
  runtime: 'docker' | 'kubernetes' | 'local';
  /**
   * What kiln noticed but did not fail on: ignored metric lines, values
   * dropped, truncated log lines, outputs skipped (symlinks), edge notes.
   */
  notes?: string[];
  host: string;
  /** The worker that ran this attempt (`KILN_WORKER_ID`). */
  worker?: string;
  attempt: number;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
}
