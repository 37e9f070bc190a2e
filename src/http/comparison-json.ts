/**
 * A run's comparison with its base as JSON (`GET /api/runs/:id/comparison`,
 * `kiln compare --base`): the base run by id, not its whole record.
 */
import type { RunComparison } from '../control/compare-with-base.js';
import { describeRun } from '../metrics/describe-run.js';
import type { RunRecord } from '../model/run.js';

export interface ComparisonJson {
  runId: string;
  base: {
    label: string;
    mergeBase?: string;
    runId?: string;
    counter?: number;
    commit?: string;
  };
  /** The commit status kiln posts for the run (state and description). */
  status: { state: string; description: string };
  gate: RunComparison['gate'];
  comparisons: RunComparison['comparisons'];
  differingParameters: RunComparison['differingParameters'];
  parameters: Record<string, unknown>;
}

export function toComparisonJson(
  run: RunRecord,
  compared: RunComparison,
): ComparisonJson {
  const { base } = compared;
  return {
    runId: run.id,
    base: {
      label: base.label,
      ...(base.mergeBase ? { mergeBase: base.mergeBase } : {}),
      ...(base.run
        ? {
            runId: base.run.id,
            counter: base.run.counter,
            commit: base.run.commit,
          }
        : {}),
    },
    status: describeRun({
      run,
      comparisons: compared.comparisons,
      baseLabel: base.label,
    }),
    gate: compared.gate,
    comparisons: compared.comparisons,
    differingParameters: compared.differingParameters,
    parameters: compared.parameters,
  };
}
