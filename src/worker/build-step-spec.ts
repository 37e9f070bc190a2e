/**
 * Turns a step, its resolved commands and its prepared folders into the
 * runtime's `StepSpec`: mounts by the container contract, limits from
 * `resources`, time limits, labels, and the environment.
 */
import type { Step } from '../config/config-model.js';
import type { StepSpec } from '../runtime/runtime.js';
import { CONTAINER_PATHS, buildContractEnv } from './container-contract.js';
import type { StepLimits } from './worker-deps.js';

export interface ExecutionFolders {
  repository: string;
  inputs: string;
  outputs: string;
  config: string;
}

export function buildStepSpec(options: {
  executionId: string;
  attempt: number;
  step: Step;
  commands: string[];
  folders: ExecutionFolders;
  secrets: Record<string, string>;
  labels: Record<string, string>;
  /** The operator's limits (settings); the step's own time limit wins. */
  limits?: StepLimits;
}): StepSpec {
  const limits = options.limits ?? {};
  const { step, folders } = options;
  const env: Record<string, string> = {};
  for (const variable of step.environmentVariables) {
    if (variable.default !== undefined) env[variable.name] = variable.default;
  }
  Object.assign(env, options.secrets, buildContractEnv(options.executionId));
  const cpus = step.resources?.cpu?.max ?? step.resources?.cpu?.min;
  const memoryMb = step.resources?.memory?.max ?? step.resources?.memory?.min;
  return {
    executionId: options.executionId,
    attempt: options.attempt,
    image: step.image,
    commands: options.commands,
    env,
    // A contract variable wins over a secret of the same name: what the
    // step gets under that name is then no secret.
    secretNames: Object.keys(options.secrets).filter(
      (name) => env[name] === options.secrets[name],
    ),
    workdir: CONTAINER_PATHS.repository,
    mounts: [
      {
        hostPath: folders.repository,
        containerPath: CONTAINER_PATHS.repository,
        readOnly: true,
      },
      {
        hostPath: folders.inputs,
        containerPath: CONTAINER_PATHS.inputs,
        readOnly: true,
      },
      {
        hostPath: folders.outputs,
        containerPath: CONTAINER_PATHS.outputs,
        readOnly: false,
      },
      {
        hostPath: folders.config,
        containerPath: CONTAINER_PATHS.config,
        readOnly: true,
      },
    ],
    network: step.network,
    resources: {
      cpus: cpus && cpus > 0 ? cpus : undefined,
      memoryBytes:
        memoryMb && memoryMb > 0
          ? Math.round(memoryMb * 1024 * 1024)
          : undefined,
      devices: step.resources?.devices,
    },
    timeLimitMs: step.timeLimit
      ? step.timeLimit * 1000
      : limits.defaultTimeLimitMs,
    ...(limits.rootfsBytes === undefined && limits.outputBytes === undefined
      ? {}
      : {
          diskLimits: {
            rootfsBytes: limits.rootfsBytes,
            ...(limits.outputBytes === undefined
              ? {}
              : {
                  outputs: {
                    hostPath: folders.outputs,
                    maxBytes: limits.outputBytes,
                  },
                }),
          },
        }),
    noOutputTimeoutMs: step.noOutputTimeout
      ? step.noOutputTimeout * 1000
      : undefined,
    labels: options.labels,
    ...(step.environment === undefined
      ? {}
      : { environment: step.environment }),
    localPaths: {
      [CONTAINER_PATHS.repository]: folders.repository,
      [CONTAINER_PATHS.inputs]: folders.inputs,
      [CONTAINER_PATHS.outputs]: folders.outputs,
      [CONTAINER_PATHS.config]: folders.config,
    },
  };
}
