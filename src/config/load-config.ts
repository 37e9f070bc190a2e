/**
 * Reads a valohai.yaml-format text into kiln's normalised Config, with every
 * finding (YAML, schema, lint) a person needs to fix the file. Pure: the
 * caller reads the file (src/cli/read-config-file.ts, git at a SHA, …).
 */
import { checkSpec } from './check-schema.js';
import type { SchemaCheck } from './check-schema.js';
import { collectItems } from './collect-items.js';
import type { RawItem } from './collect-items.js';
import type { Config, Pipeline, Step } from './config-model.js';
import { itemSpecs } from './config-schema.js';
import { isMapping } from './describe-value.js';
import type { Finding } from './finding.js';
import { hasErrors } from './finding.js';
import type { FindingSink } from './finding-sink.js';
import { lintItems } from './lint-items.js';
import { lintPipeline } from './lint-pipeline.js';
import { normalizePipeline } from './normalize-pipeline.js';
import {
  normalizeReport,
  normalizeTask,
  normalizeTrigger,
} from './normalize-other-items.js';
import { normalizeStep } from './normalize-step.js';
import { readYaml } from './read-yaml.js';
import { mergeByName } from './merge-by-name.js';
import type { PathSegment, PositionIndex } from './yaml-document.js';

export interface LoadedConfig {
  file: string;
  /** Normalised; best effort when invalid (empty lists if unusable). */
  config: Config;
  /** Sorted by line, then column. */
  findings: Finding[];
  /** No error findings. */
  valid: boolean;
  /**
   * YAML readable AND matches the schema AND edges well formed: steps and
   * pipelines may be planned (plan-json.md), even with other lint errors.
   */
  plannable: boolean;
}

export function emptyConfig(): Config {
  return {
    steps: [],
    pipelines: [],
    tasks: [],
    endpoints: [],
    deployments: [],
    triggers: [],
    reports: [],
  };
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((finding, order) => ({ finding, order }))
    .sort(
      (a, b) =>
        a.finding.line - b.finding.line ||
        a.finding.column - b.finding.column ||
        a.order - b.order,
    )
    .map(({ finding }) => finding);
}

function itemsOf(
  items: RawItem[],
  kinds: readonly string[],
): { item: RawItem; value: Record<string, unknown> }[] {
  return items
    .filter((item) => kinds.includes(item.kind) && isMapping(item.value))
    .map((item) => ({ item, value: item.value as Record<string, unknown> }));
}

function buildConfig(items: RawItem[]): {
  config: Config;
  pipelineItems: {
    item: RawItem;
    value: Record<string, unknown>;
    pipeline: Pipeline;
  }[];
} {
  const config = emptyConfig();
  const steps: Step[] = itemsOf(items, ['step']).map(({ value }) =>
    normalizeStep(value),
  );
  const pipelineItems = itemsOf(items, ['pipeline', 'blueprint']).map(
    (entry) => ({
      ...entry,
      pipeline: normalizePipeline(entry.value),
    }),
  );
  config.steps = mergeByName(steps);
  config.pipelines = mergeByName(pipelineItems.map((entry) => entry.pipeline));
  config.tasks = mergeByName(
    itemsOf(items, ['task']).map(({ value }) => normalizeTask(value)),
  );
  config.endpoints = itemsOf(items, ['endpoint']).map(({ value }) => value);
  config.deployments = itemsOf(items, ['deployment']).map(({ value }) => value);
  config.triggers = itemsOf(items, ['trigger']).map(({ value }) =>
    normalizeTrigger(value),
  );
  config.reports = itemsOf(items, ['report']).map(({ value }) =>
    normalizeReport(value),
  );
  return { config, pipelineItems };
}

/**
 * YAML 1.1 reads an unquoted `on:` key as the boolean true (the reader gives
 * the key "True"), the same trap as in GitHub Actions files; a trigger's
 * `on` is meant, so read it back.
 */
function restoreTriggerOnKey(item: RawItem): RawItem {
  if (item.kind !== 'trigger' || !isMapping(item.value)) return item;
  const value = item.value;
  if (!Object.hasOwn(value, 'True') || Object.hasOwn(value, 'on')) return item;
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value))
    copy[key === 'True' ? 'on' : key] = value[key];
  return { ...item, value: copy };
}

/** Positions of a renamed trigger `on` key are found under "True". */
function triggerAwarePositions(positions: PositionIndex): PositionIndex {
  const original = (path: readonly PathSegment[]): PathSegment[] =>
    path[1] === 'trigger' && path[2] === 'on'
      ? [path[0] ?? 0, 'trigger', 'True', ...path.slice(3)]
      : [...path];
  const known = (path: readonly PathSegment[]): boolean => {
    const a = positions.valueAt(path);
    const b = positions.valueAt(path.slice(0, -1));
    return a.line !== b.line || a.column !== b.column;
  };
  const pick = (path: readonly PathSegment[]): readonly PathSegment[] => {
    const renamed = original(path);
    return renamed[2] === 'True' && !known(path.slice(0, 3)) ? renamed : path;
  };
  return {
    valueAt: (path) => positions.valueAt(pick(path)),
    keyAt: (path) => positions.keyAt(pick(path)),
  };
}

/**
 * Reads, checks and normalises one file's text. Never throws on bad input:
 * every problem becomes a finding. Idempotent and side-effect free.
 */
export function loadConfig(
  text: string,
  options: { file: string; maxBytes?: number },
): LoadedConfig {
  const document = readYaml(text, options);
  const findings = [...document.findings];
  if (document.value === undefined) {
    return {
      file: options.file,
      config: emptyConfig(),
      findings: sortFindings(findings),
      valid: false,
      plannable: false,
    };
  }
  const sink: FindingSink = {
    file: options.file,
    positions: triggerAwarePositions(document.positions),
    text,
    findings,
  };
  const collected = collectItems(sink, document.value);
  const usable = collected.usable;
  const items = collected.items.map(restoreTriggerOnKey);
  const check: SchemaCheck = { sink, errors: 0 };
  for (const item of items) {
    const spec = itemSpecs[item.kind];
    if (spec !== undefined) checkSpec(check, spec, item.path, item.value);
  }
  const { config, pipelineItems } = buildConfig(items);
  lintItems(sink, { items, config });
  const context = {
    steps: new Map(config.steps.map((step) => [step.name, step])),
    tasks: new Set(config.tasks.map((task) => task.name)),
  };
  let edgesWellFormed = true;
  for (const { item, value, pipeline } of pipelineItems) {
    if (
      !lintPipeline(sink, { raw: value, path: item.path, pipeline, context })
    ) {
      edgesWellFormed = false;
    }
  }
  const readable = !hasErrors(document.findings);
  const plannable = readable && usable && check.errors === 0 && edgesWellFormed;
  const sorted = sortFindings(findings);
  return {
    file: options.file,
    config: usable ? config : emptyConfig(),
    findings: sorted,
    valid: !hasErrors(sorted),
    plannable,
  };
}
