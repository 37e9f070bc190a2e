import { isAlias, isMap, isNode, isPair, isSeq } from 'yaml';
import type { Alias, Node } from 'yaml';

export interface AliasProblem {
  /** Offset of the offending alias or anchor in the text. */
  offset: number;
  message: string;
}

/** What `linkYamlAliases` found; `problems` are fatal, as in PyYAML. */
export interface AliasLinks {
  targets: Map<Alias, Node>;
  problems: AliasProblem[];
}

/**
 * Links every alias of one document to its anchored node, in document
 * order, the way PyYAML's composer does: an alias must follow its anchor and
 * an anchor name may be defined once. An alias inside its own anchored node
 * (a recursive structure) is refused here, so nothing later can loop.
 * Iterative, so any depth the parser accepted is safe.
 */
export function linkYamlAliases(root: Node | null): AliasLinks {
  const targets = new Map<Alias, Node>();
  const problems: AliasProblem[] = [];
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  const stack: Array<{ node: Node; leave: boolean }> = [];
  if (root) stack.push({ node: root, leave: false });

  for (let next = stack.pop(); next; next = stack.pop()) {
    const { node, leave } = next;
    if (leave) {
      open.delete(node);
      continue;
    }
    if (isAlias(node)) {
      linkAlias(node);
      continue;
    }
    if (node.anchor) {
      if (anchors.has(node.anchor)) {
        problems.push({
          offset: offsetOf(node),
          message: `duplicate anchor &${node.anchor}: PyYAML refuses a second anchor with the same name; rename one of them`,
        });
      }
      anchors.set(node.anchor, node);
    }
    if (!isMap(node) && !isSeq(node)) continue;
    open.add(node);
    stack.push({ node, leave: true });
    for (const child of childrenOf(node).reverse()) {
      stack.push({ node: child, leave: false });
    }
  }
  return { targets, problems };

  function linkAlias(alias: Alias): void {
    const target = anchors.get(alias.source);
    if (!target) {
      problems.push({
        offset: offsetOf(alias),
        message: `alias *${alias.source} has no anchor &${alias.source} before it; define the anchor first`,
      });
    } else if (open.has(target)) {
      problems.push({
        offset: offsetOf(alias),
        message: `alias *${alias.source} refers to a value that contains it (a recursive structure); kiln cannot read it`,
      });
    } else {
      targets.set(alias, target);
    }
  }
}

/** Keys and values in document order. */
function childrenOf(node: Node): Node[] {
  const children: Node[] = [];
  const items: unknown[] = isMap(node) || isSeq(node) ? node.items : [];
  for (const item of items) {
    if (isPair(item)) {
      if (isNode(item.key)) children.push(item.key);
      if (isNode(item.value)) children.push(item.value);
    } else if (isNode(item)) {
      children.push(item);
    }
  }
  return children;
}

export function offsetOf(node: Node): number {
  return node.range?.[0] ?? 0;
}
