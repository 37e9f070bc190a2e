/**
 * A pipeline node's `actions` (`when` / `if` / `then`), evaluated when the
 * node completes or fails: `stop-pipeline`, `error-pipeline`,
 * `require-approval` (hold the run until someone approves) and `noop`.
 */
import type { NodeAction } from '../config/config-model.js';
import type { RunStatus } from '../model/run.js';
import {
  evaluateExpression,
  type ExpressionScope,
} from '../config/evaluate-expression.js';

export interface ActionOutcome {
  status: Extract<RunStatus, 'stopped' | 'error' | 'waiting-approval'>;
  reason: string;
}

export function evaluateNodeActions(options: {
  node: string;
  actions: readonly NodeAction[];
  when: 'node-starting' | 'node-complete' | 'node-error';
  context: ExpressionScope;
}): { outcome?: ActionOutcome; notes: string[] } {
  const notes: string[] = [];
  for (const action of options.actions) {
    if (!action.when.includes(options.when)) continue;
    let holds = true;
    for (const condition of action.if) {
      const result = evaluateExpression(condition, options.context);
      if (!result.ok) {
        notes.push(result.message);
        holds = false;
        break;
      }
      if (!result.value) {
        holds = false;
        break;
      }
    }
    if (!holds) continue;
    const why = action.if.length > 0 ? ` (${action.if.join(' and ')})` : '';
    for (const then of action.then) {
      if (then === 'stop-pipeline') {
        return {
          outcome: {
            status: 'stopped',
            reason: `node "${options.node}" stopped the pipeline${why}`,
          },
          notes,
        };
      }
      if (then === 'error-pipeline') {
        return {
          outcome: {
            status: 'error',
            reason: `node "${options.node}" failed the pipeline${why}`,
          },
          notes,
        };
      }
      if (then === 'require-approval') {
        return {
          outcome: {
            status: 'waiting-approval',
            reason: `node "${options.node}" asks for approval before the pipeline goes on${why}`,
          },
          notes,
        };
      }
      if (then !== 'noop') notes.push(`unknown action "${then}" ignored`);
    }
  }
  return { notes };
}
