/**
 * `kiln plan --all --json`: kiln's reading of one valohai.yaml-format file
 * and the exact commands it would run with default values, in the format of
 * docs plan-json.md.
 */
import {
  buildCommand,
  CommandTooLongError,
  ParameterRenderError,
} from './build-command.js';
import type { Config, Pipeline, PipelineNode, Step } from './config-model.js';
import type { Finding } from './finding.js';
import { formatFinding } from './finding.js';
import { resolveParameterValues } from './resolve-parameter-values.js';

export interface PlanStep {
  name: string;
  image: string;
  /** null when a parameter default cannot be converted to its type. */
  command: string[] | null;
}

export interface PlanNode {
  name: string;
  type: PipelineNode['type'];
  step: string | null;
  task?: string;
  deployment?: string;
}

export interface PlanEdge {
  source_node: string;
  source_type: string;
  source_key: string;
  target_node: string;
  target_type: string;
  target_key: string;
}

export interface PlanPipeline {
  name: string;
  nodes: PlanNode[];
  edges: PlanEdge[];
}

export interface PlanJson {
  valid: boolean;
  errors: string[];
  warnings: string[];
  steps: PlanStep[];
  pipelines: PlanPipeline[];
}

/** What planFile needs of a loaded file (load-config.ts's LoadedConfig). */
export interface PlannableConfig {
  config: Config;
  findings: readonly Finding[];
  /** The config is complete enough to list steps and pipelines. */
  plannable: boolean;
}

/**
 * Pure; `valid` is false exactly when there is an error finding. `warnings`
 * are Valohai's (and the plural-socket leniency); kiln's own advice
 * (`Finding.advice`) is shown by `kiln validate`, not here.
 */
export function planFile(loaded: PlannableConfig): PlanJson {
  const errors = loaded.findings
    .filter((finding) => finding.severity === 'error')
    .map(formatFinding);
  const warnings = loaded.findings
    .filter((finding) => finding.severity === 'warning' && !finding.advice)
    .map(formatFinding);
  return {
    valid: errors.length === 0,
    errors,
    warnings,
    steps: loaded.plannable ? planSteps(loaded.config.steps) : [],
    pipelines: loaded.plannable
      ? loaded.config.pipelines.map(planPipeline)
      : [],
  };
}

/**
 * A file's commands together stay under this many characters: YAML aliases
 * let a small file repeat one huge default in every step.
 */
const MAX_PLAN_CHARS = 32 * 1024 * 1024;

function planSteps(steps: readonly Step[]): PlanStep[] {
  let total = 0;
  return steps.map((step) => {
    if (total > MAX_PLAN_CHARS) {
      return { name: step.name, image: step.image, command: null };
    }
    const planned = planStep(step);
    for (const item of planned.command ?? []) total += item.length;
    return planned;
  });
}

/** The step with the commands its default values give. */
export function planStep(step: Step): PlanStep {
  const resolved = resolveParameterValues(step, {}, { useDefaults: true });
  let command: string[] | null = null;
  if (resolved.unconvertible.length === 0) {
    try {
      command = buildCommand(step, resolved.values);
    } catch (error) {
      // A hostile file, or a template the checks refused: no command is
      // the honest answer.
      if (
        !(error instanceof CommandTooLongError) &&
        !(error instanceof ParameterRenderError)
      ) {
        throw error;
      }
    }
  }
  return { name: step.name, image: step.image, command };
}

export function planPipeline(pipeline: Pipeline): PlanPipeline {
  return {
    name: pipeline.name,
    nodes: pipeline.nodes.map(planNode),
    edges: pipeline.edges.map((edge) => ({
      source_node: edge.source.node,
      source_type: edge.source.type,
      source_key: edge.source.key,
      target_node: edge.target.node,
      target_type: edge.target.type,
      target_key: edge.target.key,
    })),
  };
}

function planNode(node: PipelineNode): PlanNode {
  const planned: PlanNode = {
    name: node.name,
    type: node.type,
    step: node.type === 'deployment' ? null : (node.step ?? null),
  };
  if (node.task !== undefined) planned.task = node.task;
  if (node.deployment !== undefined) planned.deployment = node.deployment;
  return planned;
}
