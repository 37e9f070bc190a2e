/** A run event stream entry (`e` → JSON) → the event, or null if damaged. */
import type { RunEvent } from '../model/run-event.js';

const KINDS: ReadonlySet<string> = new Set(['run', 'node', 'nodes']);

export function parseRunEvent(fields: readonly string[]): RunEvent | null {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] !== 'e') continue;
    try {
      const value = JSON.parse(
        fields[index + 1] ?? '',
      ) as Partial<RunEvent> | null;
      if (!value || typeof value !== 'object' || !KINDS.has(String(value.kind)))
        return null;
      if (value.kind === 'nodes' && !Array.isArray(value.nodes))
        value.nodes = [];
      return value as RunEvent;
    } catch {
      return null;
    }
  }
  return null;
}
