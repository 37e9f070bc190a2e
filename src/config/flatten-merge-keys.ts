import { isAlias, isMap, isNode, isScalar, isSeq } from 'yaml';
import type { Alias, Node, YAMLMap } from 'yaml';
import type { PathSegment } from './yaml-document.js';

/** A mapping entry after `<<` merge keys are applied, in PyYAML's order. */
export interface FlatPair {
  key: Node | null;
  value: Node | null;
  fromMerge: boolean;
  /** Reached through an alias: already reported where it is defined. */
  viaAlias: boolean;
}

/** What the flattener needs from the converter that owns the budgets. */
export interface MergeKeyHooks {
  /** Resolves an alias, counting it (may stop reading). */
  follow(alias: Alias): Node | undefined;
  /** Counts merged entries against the expansion budget (may stop reading). */
  spend(amount: number, culprit: Node): void;
  /** Stops reading with an error at `node`. */
  stop(node: Node, message: string): never;
  /** Records a non-fatal error at `node`. */
  reportError(node: Node, path: PathSegment[], message: string): void;
}

/**
 * PyYAML's `flatten_mapping` for `<<` keys: the merged pairs come first and
 * the mapping's own pairs after them, so explicit keys win; in a list of
 * mappings the earlier ones win. Results are memoised per mapping node, so
 * a mapping is flattened (and its errors reported) once however often it is
 * aliased. `maxLevel` bounds merges of merges.
 */
export function createMergeKeyFlattener(
  hooks: MergeKeyHooks,
  maxLevel: number,
): (map: YAMLMap, path: PathSegment[]) => FlatPair[] {
  const flattened = new Map<YAMLMap, FlatPair[]>();
  return (map, path) => flatten(map, path, 0);

  function flatten(
    map: YAMLMap,
    path: PathSegment[],
    level: number,
  ): FlatPair[] {
    const known = flattened.get(map);
    if (known) return known;
    if (level > maxLevel) {
      hooks.stop(map, `merge keys nested deeper than ${maxLevel} levels`);
    }
    const merged: FlatPair[] = [];
    const own: FlatPair[] = [];
    const append = (
      from: FlatPair[],
      source: { viaAlias: boolean; culprit: Node | null },
    ): void => {
      hooks.spend(from.length, source.culprit ?? map);
      for (const pair of from) {
        const viaAlias = pair.viaAlias || source.viaAlias;
        merged.push({ ...pair, fromMerge: true, viaAlias });
      }
    };

    for (const item of map.items) {
      const key = asNode(item.key);
      const value = asNode(item.value);
      if (!isMergeKey(key)) {
        own.push({ key, value, fromMerge: false, viaAlias: false });
        continue;
      }
      const source = value && isAlias(value) ? hooks.follow(value) : value;
      const viaAlias = source !== value;
      if (source && isMap(source)) {
        append(flatten(source, path, level + 1), { viaAlias, culprit: value });
      } else if (source && isSeq(source)) {
        const parts: Array<{
          pairs: FlatPair[];
          viaAlias: boolean;
          culprit: Node | null;
        }> = [];
        for (const entry of source.items) {
          const node = asNode(entry);
          const target = node && isAlias(node) ? hooks.follow(node) : node;
          if (!target || !isMap(target)) {
            hooks.reportError(
              node ?? source,
              path,
              'a merge key << needs a list of mappings; this item is not a mapping',
            );
            continue;
          }
          const pairs = flatten(target, path, level + 1);
          const partViaAlias = viaAlias || target !== node;
          parts.push({ pairs, viaAlias: partViaAlias, culprit: node });
        }
        // Earlier mappings in the list win, so they are applied last.
        for (const part of parts.reverse()) append(part.pairs, part);
      } else if (source) {
        hooks.reportError(
          value ?? map,
          path,
          'a merge key << needs a mapping or a list of mappings',
        );
      }
    }
    const pairs = merged.length > 0 ? [...merged, ...own] : own;
    flattened.set(map, pairs);
    return pairs;
  }
}

/** Only a plain, untagged `<<` is a merge key (a quoted one is a string). */
function isMergeKey(node: Node | null): boolean {
  return (
    node !== null &&
    isScalar(node) &&
    node.type === 'PLAIN' &&
    node.tag === undefined &&
    node.source === '<<'
  );
}

function asNode(item: unknown): Node | null {
  return isNode(item) ? item : null;
}
