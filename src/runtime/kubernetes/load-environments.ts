/**
 * The operator's environments file (`KILN_KUBERNETES_ENVIRONMENTS`): where
 * the Pods of a step with a Valohai `environment` run. Each environment
 * names a node pool the Kubernetes way — a nodeSelector, tolerations and an
 * affinity, copied into the Pod as they are written:
 *
 * ```yaml
 * environments:
 *   gpu-a100:
 *     nodeSelector: { cloud.google.com/gke-accelerator: nvidia-tesla-a100 }
 *     tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]
 * default: cpu-pool   # optional: for steps that name no environment
 * ```
 *
 * Read once at start; a mistake is reported with the file and the
 * environment it is in, so kiln does not start with a broken file.
 */
import { readFile } from 'node:fs/promises';
import { Affinity, Toleration } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { z } from 'zod';
import { KilnError } from '../../errors.js';

export interface Placement {
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
}

export interface Environments {
  /** Environment name → where its Pods run. */
  byName: ReadonlyMap<string, Placement>;
  /** For steps without an environment; undefined: no constraint. */
  fallback?: string;
  /** The file they came from (said in errors). */
  source: string;
}

export class EnvironmentsFileError extends KilnError {
  readonly code = 'INVALID_ENVIRONMENTS_FILE';
}

const PlacementSchema = z.strictObject({
  nodeSelector: z.record(z.string().min(1), z.string()).optional(),
  tolerations: z.array(z.record(z.string(), z.unknown())).optional(),
  affinity: z.record(z.string(), z.unknown()).optional(),
});

const EnvironmentsSchema = z.strictObject({
  environments: z.record(z.string().min(1), PlacementSchema),
  default: z.string().min(1).optional(),
});

export async function loadEnvironments(path: string): Promise<Environments> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new EnvironmentsFileError(
      `cannot read the environments file ${path} (KILN_KUBERNETES_ENVIRONMENTS): ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  return parseEnvironments(text, path);
}

export function parseEnvironments(text: string, source: string): Environments {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new EnvironmentsFileError(
      `the environments file ${source} is not valid YAML: ${(error as Error).message}`,
    );
  }
  const parsed = EnvironmentsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`,
    );
    throw new EnvironmentsFileError(
      `the environments file ${source} is not valid: ${issues.join('; ')} — it needs an "environments" map of name → {nodeSelector, tolerations, affinity}`,
    );
  }
  const byName = new Map<string, Placement>();
  for (const [name, placement] of Object.entries(parsed.data.environments)) {
    const problem = findPlacementProblem(placement);
    if (problem !== null) {
      throw new EnvironmentsFileError(
        `environment ${JSON.stringify(name)} in ${source}: ${problem}`,
      );
    }
    byName.set(name, placement);
  }
  const fallback = parsed.data.default;
  if (fallback !== undefined && !byName.has(fallback)) {
    throw new EnvironmentsFileError(
      `the environments file ${source} names default ${JSON.stringify(fallback)}, which is not one of its environments (${[...byName.keys()].join(', ')})`,
    );
  }
  return { byName, fallback, source };
}

/** Checks tolerations and affinity against the Kubernetes schema. */
function findPlacementProblem(placement: Placement): string | null {
  try {
    placement.tolerations?.forEach((toleration, index) => {
      try {
        new Toleration(toleration).validate();
      } catch (error) {
        throw new Error(`tolerations[${index}]: ${(error as Error).message}`);
      }
    });
    if (placement.affinity !== undefined) {
      try {
        new Affinity(placement.affinity).validate();
      } catch (error) {
        throw new Error(`affinity: ${(error as Error).message}`);
      }
    }
  } catch (error) {
    return (error as Error).message;
  }
  return null;
}

/**
 * The placement of a step's Pod, or a problem to report: an environment the
 * file does not list is refused rather than run anywhere, since it usually
 * means a typo or a pool the operator has not mapped yet.
 */
export function pickPlacement(
  environments: Environments | undefined,
  environment: string | undefined,
): { ok: true; placement: Placement } | { ok: false; problem: string } {
  if (environments === undefined) return { ok: true, placement: {} };
  const name = environment ?? environments.fallback;
  if (name === undefined) return { ok: true, placement: {} };
  const placement = environments.byName.get(name);
  if (placement === undefined) {
    return {
      ok: false,
      problem: `the step's environment ${JSON.stringify(name)} is not in the environments file ${environments.source} (known: ${[...environments.byName.keys()].join(', ') || 'none'}) — add it there or change the step's environment`,
    };
  }
  return { ok: true, placement };
}
