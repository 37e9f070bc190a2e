import type {
  Config,
  Edge,
  OnError,
  Pipeline,
  PipelineNode,
  Step,
} from '../../../src/config/config-model.js';
import type { NodeStatus, RunRecord } from '../../../src/model/run.js';

export function makeStep(name: string, overrides: Partial<Step> = {}): Step {
  return {
    name,
    image: 'busybox',
    command: ['echo hi'],
    parameters: [],
    inputs: [],
    outputs: [],
    environmentVariables: [],
    environmentVariableGroups: [],
    mounts: [],
    cacheVolumes: [],
    network: false,
    ...overrides,
  };
}

export function makeNode(
  name: string,
  step: string,
  onError: OnError = 'stop-all',
  extra: Partial<PipelineNode> = {},
): PipelineNode {
  return {
    name,
    type: 'execution',
    step,
    actions: [],
    onError,
    edgeMergeMode: 'replace',
    ...extra,
  };
}

export function edge(source: string, target: string): Edge {
  const split = (text: string) => {
    const [node = '', type = '', ...rest] = text.split('.');
    return { node, type, key: rest.join('.') };
  };
  return { source: split(source), target: split(target) };
}

export function makeConfig(steps: Step[], pipelines: Pipeline[]): Config {
  return {
    steps,
    pipelines,
    tasks: [],
    endpoints: [],
    deployments: [],
    triggers: [],
    reports: [],
  };
}

export function makeRun(
  nodes: Record<string, NodeStatus>,
  extra: Partial<RunRecord> = {},
): RunRecord {
  return {
    id: 'r1',
    counter: 1,
    repository: 'acme/models',
    commit: 'a'.repeat(40),
    kind: 'pipeline',
    name: 'p',
    status: 'running',
    parameters: {},
    nodes: Object.entries(nodes).map(([name, status]) => ({
      name,
      step: name,
      status,
      attempt: 1,
    })),
    createdAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}
