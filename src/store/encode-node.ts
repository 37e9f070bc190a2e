/**
 * A node's state as stored: JSON with its keys in one fixed order, so the
 * same state is always the same text. The transition scripts compare a
 * node's stored text with the text of the state a change was computed from
 * — a compare-and-set over the whole state, with no decoding in Lua.
 */
import type { RunNodeState } from '../model/run.js';
import { toStoredJson } from './to-stored-json.js';

const ORDER: ReadonlyArray<keyof RunNodeState> = [
  'name',
  'step',
  'index',
  'status',
  'phase',
  'attempt',
  'generation',
  'failures',
  'executionId',
  'worker',
  'startedAt',
  'endedAt',
  'message',
];

export function encodeNode(node: RunNodeState): string {
  const ordered: Record<string, unknown> = {};
  for (const key of ORDER) {
    if (node[key] !== undefined) ordered[key] = node[key];
  }
  return toStoredJson(ordered);
}
