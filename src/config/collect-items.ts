/**
 * Splits the top-level list into items (`- step: {...}`), reporting a file
 * that is not a list, items that are not one-key mappings and unknown items.
 */
import { MAX_CONFIG_ITEMS } from './check-yaml-text.js';
import { formatSuggestion } from './closest-name.js';
import { describeValue, isMapping, quoteName } from './describe-value.js';
import { addError, addFinding } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import type { PathSegment } from './yaml-document.js';

export const knownItemKinds = [
  'step',
  'pipeline',
  'blueprint',
  'task',
  'endpoint',
  'deployment',
  'trigger',
  'report',
] as const;

export type ItemKind = (typeof knownItemKinds)[number];

/** One `- KIND: {...}` entry; `path` is `[index, KIND]`. */
export interface RawItem {
  kind: ItemKind;
  path: PathSegment[];
  value: unknown;
}

/** Returns the items and whether the file's shape was usable at all. */
export function collectItems(
  sink: FindingSink,
  document: unknown,
): { items: RawItem[]; usable: boolean } {
  if (document === null || document === undefined) {
    // Valohai's linter rejects it too (None is not of type 'array').
    addError(
      sink,
      [],
      'the file is empty: write a list of items, starting with "- step:"',
    );
    return { items: [], usable: false };
  }
  if (!Array.isArray(document)) {
    addError(
      sink,
      [],
      `the file must be a list of items (- step: …), got ${describeValue(document)}`,
    );
    return { items: [], usable: false };
  }
  if (document.length > MAX_CONFIG_ITEMS) {
    // Checked before any item is looked at: the work grows with them.
    addError(
      sink,
      [],
      `the file has ${document.length} items (steps, pipelines, …); kiln reads up to ${MAX_CONFIG_ITEMS}`,
    );
    return { items: [], usable: false };
  }
  const items: RawItem[] = [];
  let usable = true;
  document.forEach((entry: unknown, index) => {
    if (!isMapping(entry)) {
      usable = false;
      addError(
        sink,
        [index],
        `each item of the file must be a mapping like "- step: …", got ${describeValue(entry)}`,
      );
      return;
    }
    for (const key of Object.keys(entry)) {
      if ((knownItemKinds as readonly string[]).includes(key)) {
        items.push({
          kind: key as ItemKind,
          path: [index, key],
          value: entry[key],
        });
      } else {
        addFinding(sink, {
          path: [index, key],
          atKey: true,
          severity: 'warning',
          message: `unknown top-level item ${quoteName(key)} is ignored${formatSuggestion(key, knownItemKinds)}`,
        });
      }
    }
  });
  return { items, usable };
}
