import type { Step } from '../config/config-model.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { RunRecord } from '../model/run.js';
import { applyOverride } from './apply-override.js';
import { loadStoredConfig } from './config-texts.js';
import type { OrchestratorDeps } from './orchestrator-deps.js';
import {
  buildRunGraph,
  type RunGraph,
  type RunGraphNode,
} from './run-graph.js';
import { KilnError } from '../errors.js';

export interface RunPlan {
  loaded: LoadedConfig;
  graph: RunGraph;
}

export class RunPlanError extends KilnError {
  readonly code = 'RUN_PLAN_UNAVAILABLE';
  constructor(message: string) {
    super(message);
  }
}

/** The configuration and graph a run was created with. */
export async function loadRunPlan(
  deps: Pick<OrchestratorDeps, 'redis' | 'prefix'>,
  run: RunRecord,
): Promise<RunPlan> {
  if (!run.config) throw new RunPlanError(`run ${run.id} has no configuration`);
  const loaded = await loadStoredConfig(
    deps.redis,
    deps.prefix,
    run.config.key,
    run.config.file,
  );
  if (!loaded) {
    throw new RunPlanError(
      `the configuration of run ${run.id} is no longer stored (key ${run.config.key})`,
    );
  }
  const graph = buildRunGraph(loaded.config, run.name);
  if (!graph.ok) throw new RunPlanError(graph.message);
  return { loaded, graph: graph.graph };
}

/** The step a node runs, with the node's override applied. */
export function stepForNode(
  plan: RunPlan,
  node: RunGraphNode,
): Step | undefined {
  const step = plan.loaded.config.steps.find((item) => item.name === node.step);
  return step ? applyOverride(step, node.node?.override) : undefined;
}
