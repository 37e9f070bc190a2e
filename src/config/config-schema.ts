/**
 * The valohai.yaml format (as `valohai-yaml` 0.57's JSON schema has it) plus
 * kiln's own items and keys, by top-level item. Checked by check-schema.ts,
 * printed by `kiln schema` through config-json-schema.ts.
 */
import {
  deploymentSpec,
  endpointSpec,
  reportSpec,
  taskSpec,
  triggerSpec,
} from './other-items-schema.js';
import { pipelineSpec } from './pipeline-schema.js';
import type { ObjectSpec } from './schema-spec.js';
import { stepSpec } from './step-schema.js';

export const itemSpecs: Record<string, ObjectSpec> = {
  step: stepSpec,
  pipeline: pipelineSpec,
  blueprint: pipelineSpec,
  task: taskSpec,
  endpoint: endpointSpec,
  deployment: deploymentSpec,
  trigger: triggerSpec,
  report: reportSpec,
};
