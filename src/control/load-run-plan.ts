/**
 * The configuration and graph a run was created with, parsed once per
 * process: every node event of a run needs its graph, and a configuration
 * text never changes under its key.
 */
import type { Step } from '../config/config-model.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { KilnError } from '../errors.js';
import type { RunRecord } from '../model/run.js';
import { applyOverride } from '../orchestrator/apply-override.js';
import {
  buildRunGraph,
  type RunGraph,
  type RunGraphNode,
} from '../orchestrator/run-graph.js';
import type { ConfigStore } from '../store/index.js';

export interface RunPlan {
  loaded: LoadedConfig;
  graph: RunGraph;
}

export class RunPlanError extends KilnError {
  readonly code = 'RUN_PLAN_UNAVAILABLE';
}

const plans = new Map<string, RunPlan>();
const CACHE_LIMIT = 64;

export async function loadRunPlan(
  configs: ConfigStore,
  run: Pick<RunRecord, 'id' | 'config' | 'name'>,
): Promise<RunPlan> {
  if (!run.config) throw new RunPlanError(`run ${run.id} has no configuration`);
  const cacheKey = `${run.config.key}\0${run.config.file}\0${run.name}`;
  const cached = plans.get(cacheKey);
  if (cached) return cached;
  const text = await configs.load(run.config.key);
  if (text === null) {
    throw new RunPlanError(
      `the configuration of run ${run.id} is no longer stored (key ${run.config.key})`,
    );
  }
  const loaded = loadConfig(text, { file: run.config.file });
  const graph = buildRunGraph(loaded.config, run.name);
  if (!graph.ok) throw new RunPlanError(graph.message);
  const plan = { loaded, graph: graph.graph };
  if (plans.size >= CACHE_LIMIT) {
    const oldest = plans.keys().next().value;
    if (oldest !== undefined) plans.delete(oldest);
  }
  plans.set(cacheKey, plan);
  return plan;
}

/** The step a node runs, with the node's override applied. */
export function stepForNode(
  plan: RunPlan,
  node: RunGraphNode,
): Step | undefined {
  const step = plan.loaded.config.steps.find((item) => item.name === node.step);
  return step ? applyOverride(step, node.node?.override) : undefined;
}
