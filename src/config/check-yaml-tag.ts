import type { Node, Scalar } from 'yaml';
import type { ScalarTag } from './resolve-yaml11-scalar.js';

/**
 * Which explicit tags kiln honours: the standard scalar and collection tags
 * PyYAML's SafeLoader knows. Everything else (`!!binary`, `!!python/...`,
 * `!include`, `!!set`, ...) is refused: kiln reads data, never objects.
 */
const STANDARD_TAG = 'tag:yaml.org,2002:';
const SCALAR_TAGS = new Set<string>(['str', 'int', 'float', 'bool', 'null']);
/**
 * The rest of YAML 1.1's tag repository (yaml.org/type): standard, so not
 * "custom", but they build bytes, sets, dates or ordered pairs, which no
 * key of the format takes.
 */
const OTHER_STANDARD_TAGS = new Set<string>([
  'binary',
  'set',
  'timestamp',
  'omap',
  'pairs',
  'merge',
  'value',
  'yaml',
]);

export type TagUse = 'scalar' | 'seq' | 'map';

/**
 * How to type a scalar: `implicit` for a plain untagged one (and, as in
 * PyYAML, for one tagged `!` even if quoted), `str` for other untagged ones,
 * the tag's name for a standard scalar tag. A refused tag types the scalar
 * as if it had none; `tagProblem` reports it.
 */
export function scalarTagOf(node: Scalar): ScalarTag {
  const untagged = node.type === 'PLAIN' ? 'implicit' : 'str';
  if (node.tag === undefined) return untagged;
  if (node.tag === '!') return 'implicit';
  const name = standardName(node.tag);
  return SCALAR_TAGS.has(name) ? (name as ScalarTag) : untagged;
}

/** The message for a tag not allowed on this node, or `undefined`. */
export function tagProblem(
  node: Node,
  use: TagUse,
  line: number,
): string | undefined {
  const tag = node.tag;
  if (tag === undefined || tag === '!') return undefined;
  const name = standardName(tag);
  const allowed = use === 'scalar' ? SCALAR_TAGS.has(name) : name === use;
  if (allowed) return undefined;
  if (SCALAR_TAGS.has(name) || name === 'seq' || name === 'map') {
    const what = { scalar: 'a scalar', seq: 'a list', map: 'a mapping' }[use];
    return `the tag !!${name} cannot be used on ${what} (line ${line}); remove it`;
  }
  if (OTHER_STANDARD_TAGS.has(name)) {
    return `the YAML standard tag !!${name} at line ${line} is not accepted: kiln reads only strings, numbers, booleans, null, lists and mappings (the tags !!str, !!int, !!float, !!bool, !!null, !!seq, !!map); remove the tag`;
  }
  if (name.startsWith('python/')) {
    return `the PyYAML tag !!${name} at line ${line} is not allowed: it builds Python objects, which neither Valohai's safe loader nor kiln reads; remove the tag`;
  }
  const shown = tag.startsWith(STANDARD_TAG) ? `!!${name}` : tag;
  return `custom YAML tags are not allowed: ${shown} at line ${line}; remove the tag`;
}

/**
 * Where the tag of the node starting at `offset` is written: node ranges
 * start after their properties, but a finding about a tag should point at
 * it. Walks back over whitespace and an anchor; falls back to `offset`.
 */
export function findTagOffset(text: string, offset: number): number {
  let end = offset;
  for (let props = 0; props < 2; props += 1) {
    while (end > 0 && /\s/.test(text[end - 1] ?? '')) end -= 1;
    let start = end;
    while (start > 0 && !/[\s[{,]/.test(text[start - 1] ?? '')) start -= 1;
    if (text[start] === '!') return start;
    if (text[start] !== '&') break;
    end = start;
  }
  return offset;
}

function standardName(tag: string): string {
  return tag.startsWith(STANDARD_TAG) ? tag.slice(STANDARD_TAG.length) : '';
}
