/**
 * The normalised form of a valohai.yaml-format file, as kiln uses it after
 * reading and checking. Defaults from the format are applied here; values the
 * format leaves free (parameter defaults, free-form maps) are kept exactly as
 * read (ints as numbers, or bigints beyond 2^53; floats as `PyFloat`; see
 * py-scalars.ts).
 */

export type ParameterType = 'string' | 'integer' | 'float' | 'flag';
export type MultipleMode = 'none' | 'repeat' | 'separate';

export interface Parameter {
  name: string;
  type: ParameterType;
  /** As read from YAML, unconverted; `undefined` when absent. */
  default?: unknown;
  optional: boolean;
  description?: string;
  /** `undefined` when absent or empty. */
  passAs?: string;
  passTrueAs?: string;
  passFalseAs?: string;
  choices?: unknown[];
  /** A bigint when the int is beyond 2^53 (see py-scalars.ts). */
  min?: number | bigint;
  max?: number | bigint;
  multiple: MultipleMode;
  /** @defaultValue `,` */
  multipleSeparator: string;
  category?: string;
  widget?: unknown;
}

export interface Input {
  name: string;
  /** Default URIs (a scalar default is a one-item list). */
  default: string[];
  optional: boolean;
  description?: string;
  filename?: string;
  keepDirectories: 'none' | 'full' | 'suffix';
  download: 'always' | 'on-demand';
}

export interface Output {
  name: string;
  description?: string;
}

export interface EnvironmentVariable {
  name: string;
  default?: string;
  /** @defaultValue true (Valohai's default) */
  optional: boolean;
  description?: string;
}

export interface Mount {
  source: string;
  destination: string;
  readonly: boolean;
  type?: string;
  options?: Record<string, unknown>;
}

export interface Range {
  min?: number;
  max?: number;
}

export interface Resources {
  /** vCPUs (0.5 = half a core). */
  cpu?: Range;
  /** Megabytes. */
  memory?: Range;
  /** Device requests, e.g. `{ 'nvidia.com/gpu': 1 }`. */
  devices?: Record<string, number>;
}

export interface Step {
  name: string;
  image: string;
  /** Each item is one shell command (a string `command` is one item). */
  command: string[];
  description?: string;
  parameters: Parameter[];
  inputs: Input[];
  outputs: Output[];
  environment?: string;
  environmentVariables: EnvironmentVariable[];
  environmentVariableGroups: string[];
  mounts: Mount[];
  cacheVolumes: string[];
  resources?: Resources;
  runtimeConfigPreset?: string;
  /** Seconds. */
  timeLimit?: number;
  /** Seconds. */
  noOutputTimeout?: number;
  uploadStore?: string;
  icon?: string;
  category?: string;
  sourcePath?: string;
  stopCondition?: string;
  /** kiln's key: containers get no network unless the step asks. */
  network: boolean;
}

/** Fields a pipeline node may override on its step (merged by name). */
export interface StepOverride {
  command?: string[];
  image?: string;
  environment?: string;
  environmentVariables?: EnvironmentVariable[];
  inputs?: Input[];
  mounts?: Mount[];
  parameters?: Parameter[];
  runtimeConfigPreset?: string;
}

export interface NodeAction {
  when: string[];
  if: string[];
  then: string[];
}

export type OnError = 'stop-all' | 'stop-next' | 'continue' | 'retry';

export interface PipelineNode {
  name: string;
  type: 'execution' | 'task' | 'deployment';
  /** For execution and task nodes (absent for a task node naming a blueprint). */
  step?: string;
  /** Task blueprint name (task nodes). */
  task?: string;
  /** Deployment name (deployment nodes). */
  deployment?: string;
  override?: StepOverride;
  commit?: string;
  actions: NodeAction[];
  /** @defaultValue `stop-all` */
  onError: OnError;
  /** @defaultValue `replace` */
  edgeMergeMode: 'replace' | 'append';
  endpoints?: string[];
  aliases?: string[];
}

/** One end of an edge, `node.type.key` split on the first two dots. */
export interface Socket {
  node: string;
  /** As written: `output`, `outputs`, `input`, `parameter`, `metadata`, … */
  type: string;
  key: string;
}

export interface Edge {
  source: Socket;
  target: Socket;
  configuration?: unknown;
}

export interface PipelineParameter {
  name: string;
  /** `node.parameter.name` specifiers (from `target` or `targets`). */
  targets: string[];
  default?: unknown;
  description?: string;
  category?: string;
}

export interface Pipeline {
  name: string;
  nodes: PipelineNode[];
  edges: Edge[];
  parameters: PipelineParameter[];
  /** @defaultValue false */
  reuseExecutions: boolean;
}

export interface VariantParameter {
  name: string;
  style: string;
  rules: Record<string, unknown>;
}

export interface Task {
  name: string;
  step: string;
  type: string;
  parameters: VariantParameter[];
  parameterSets?: Record<string, unknown>[];
  description?: string;
  executionCount?: number;
  executionBatchSize?: number;
  maximumQueuedExecutions?: number;
  optimizationTargetMetric?: string;
  optimizationTargetValue?: number;
  engine?: string;
  onChildError?: string;
  stopCondition?: string;
  reuseChildren: boolean;
}

export type TriggerEvent = 'push' | 'pull_request';

/** What a schedule does with ticks missed while no kiln was running. */
export type MissedTicks = 'skip' | 'run-once';

/** A `trigger`'s `schedule`: it runs on a clock, not on events. */
export interface TriggerSchedule {
  /** 5 fields, 6 with seconds first, or an `@` name (`cron-schedule.ts`). */
  cron: string;
  /** IANA name. @defaultValue 'UTC' */
  timezone: string;
  /** Branch whose head each tick runs; absent: the repository's default branch. */
  branch?: string;
  /** @defaultValue 'run-once' */
  missed: MissedTicks;
}

/** kiln's `trigger` item: what a push, a pull request or a schedule runs. */
export interface Trigger {
  name: string;
  /** Empty for a schedule (it never matches an event). */
  on: TriggerEvent[];
  schedule?: TriggerSchedule;
  /** Branch globs; empty = every branch. */
  branches: string[];
  /** Path globs; empty = any change. */
  paths: string[];
  /** Name of a pipeline or a step. */
  run: string;
  parameters: Record<string, unknown>;
  /** @defaultValue true */
  cancelSuperseded: boolean;
}

export interface ReportMetric {
  name: string;
  goal: 'maximize' | 'minimize';
  /** Absolute amount; a regression larger than this fails the check. */
  failIfRegressesBy?: number;
}

/** kiln's `report` item: what the PR comment compares with the base. */
export interface Report {
  metrics: ReportMetric[];
}

export interface Config {
  /** In file order; a duplicated name keeps the first position, last content. */
  steps: Step[];
  pipelines: Pipeline[];
  tasks: Task[];
  /** Parsed and kept, not run yet. */
  endpoints: Record<string, unknown>[];
  deployments: Record<string, unknown>[];
  triggers: Trigger[];
  reports: Report[];
}
