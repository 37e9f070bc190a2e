import type { CST } from 'yaml';

/**
 * The offset of a collection nested deeper than `maxDepth`, or
 * `undefined`. Runs on the parser's token tree before anything recursive
 * (the `yaml` composer, kiln's converter) sees it: `[[[[…` five thousand
 * deep must give a finding, not a stack overflow. Iterative on purpose.
 */
export function findTooDeepToken(
  tokens: readonly CST.Token[],
  maxDepth: number,
): number | undefined {
  const stack: Array<{ token: CST.Token; parentDepth: number }> = [];
  for (let i = tokens.length - 1; i >= 0; i -= 1) {
    stack.push({ token: tokens[i] as CST.Token, parentDepth: 0 });
  }
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { token, parentDepth } = next;
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, parentDepth });
      continue;
    }
    if (
      token.type !== 'block-map' &&
      token.type !== 'block-seq' &&
      token.type !== 'flow-collection'
    ) {
      continue;
    }
    const depth = parentDepth + 1;
    if (depth > maxDepth) return token.offset;
    for (const item of token.items) {
      if (item.key) stack.push({ token: item.key, parentDepth: depth });
      if (item.value) stack.push({ token: item.value, parentDepth: depth });
    }
  }
  return undefined;
}
