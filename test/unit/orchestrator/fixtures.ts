import type {
  Config,
  Edge,
  OnError,
  Pipeline,
  PipelineNode,
  Step,
} from '../../../src/config/config-model.js';

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
