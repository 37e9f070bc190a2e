import { isAlias, isMap, isNode, isScalar, isSeq } from 'yaml';
import type { Alias, Node, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { findTagOffset, scalarTagOf, tagProblem } from './check-yaml-tag.js';
import type { TagUse } from './check-yaml-tag.js';
import type { PositionRecorder } from './create-position-index.js';
import type { Finding, Severity } from './finding.js';
import { createMergeKeyFlattener } from './flatten-merge-keys.js';
import { offsetOf } from './link-yaml-aliases.js';
import { resolveYaml11Scalar } from './resolve-yaml11-scalar.js';
import type { ResolvedScalar } from './resolve-yaml11-scalar.js';
import { formatPath } from './yaml-document.js';
import type { PathSegment, SourcePosition } from './yaml-document.js';

/** Deeper nesting is refused (PyYAML has no limit; kiln's checks recurse). */
export const MAX_DEPTH = 200;
/** Alias resolutions per document, nested ones included. */
const MAX_ALIASES = 1_000;
/** Values built by expanding aliases and merge keys, per document. */
const MAX_EXPANDED = 100_000;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface ConvertYamlNodeOptions {
  file: string;
  /** Receives every finding, in document order. */
  findings: Finding[];
  positions: PositionRecorder;
  /** The parsed text (without a BOM): tags are located in it. */
  text: string;
  /** 1-based line and column of an offset in the parsed text. */
  locate(offset: number): SourcePosition;
  /** From `linkYamlAliases`: each alias's anchored node. */
  aliasTargets: ReadonlyMap<Alias, Node>;
}

/** Unwinds the converter at once (alias bomb, nesting); never escapes. */
class StopReading extends Error {}

/**
 * Builds plain data from one document's node tree the way PyYAML's
 * SafeConstructor does (see yaml-document.ts for the shapes), recording
 * every position. Returns `undefined` when reading had to stop; the reason
 * is then in `findings`. Aliases are expanded into fresh values, counted
 * against a budget so an alias bomb stops in bounded time. Recursion is
 * bounded by MAX_DEPTH, which the caller has checked on the token tree too.
 */
export function convertYamlNode(
  root: Node | null,
  options: ConvertYamlNodeOptions,
): unknown {
  const { file, findings, positions, locate, aliasTargets } = options;
  const sourceText = options.text;
  let aliasCount = 0;
  let expanded = 0;
  // The alias written in the document whose expansion is under way: where
  // an alias bomb is reported.
  let outerAlias: Alias | undefined;
  const flatten = createMergeKeyFlattener(
    {
      follow,
      spend,
      stop,
      reportError(node, path, message) {
        report({ node, path, quiet: false, severity: 'error' }, message);
      },
    },
    MAX_DEPTH,
  );

  try {
    if (root) positions.setValue([], locate(offsetOf(root)));
    return convert(root, [], 0, false);
  } catch (error) {
    if (error instanceof StopReading) return undefined;
    throw error;
  }

  function convert(
    node: Node | null,
    path: PathSegment[],
    depth: number,
    expanding: boolean,
  ): unknown {
    if (!node) return null;
    if (expanding) spend(1, node);
    if (isAlias(node)) {
      if (!expanding) outerAlias = node;
      const target = follow(node);
      const value = target ? convert(target, path, depth, true) : null;
      if (!expanding) outerAlias = undefined;
      positions.setValue(path, locate(offsetOf(node)));
      return value;
    }
    positions.setValue(path, locate(offsetOf(node)));
    if (isScalar(node)) {
      return readScalar(node, { path, expanding, isKey: false }).value;
    }
    if (depth + 1 > MAX_DEPTH) {
      stop(
        node,
        `nesting deeper than ${MAX_DEPTH} levels; flatten the structure`,
      );
    }
    if (isSeq(node)) return convertSeq(node, path, depth + 1, expanding);
    if (isMap(node)) return convertMap(node, path, depth + 1, expanding);
    return null;
  }

  function convertSeq(
    seq: YAMLSeq,
    path: PathSegment[],
    depth: number,
    expanding: boolean,
  ): unknown[] {
    checkTag(seq, 'seq', path, expanding);
    return seq.items.map((item, index) =>
      convert(asNode(item), [...path, index], depth, expanding),
    );
  }

  function convertMap(
    map: YAMLMap,
    path: PathSegment[],
    depth: number,
    expanding: boolean,
  ): Record<string, unknown> {
    checkTag(map, 'map', path, expanding);
    const out = Object.create(null) as Record<string, unknown>;
    const nameOf = new Map<string, string>();
    const identityOf = new Map<string, string>();
    const explicit = new Set<string>();
    for (const pair of flatten(map, path)) {
      const quiet = expanding || pair.viaAlias;
      const where = pair.key ?? pair.value ?? map;
      const key = readKey(pair.key, path, quiet);
      if (!key) continue;
      const keyPath = [...path, key.keyText];
      if (FORBIDDEN_KEYS.has(key.keyText)) {
        report(
          { node: where, path: keyPath, quiet, severity: 'error' },
          `key "${key.keyText}" is not allowed (it could change JavaScript object prototypes); rename it`,
        );
        continue;
      }
      let name = nameOf.get(key.keyIdentity);
      if (name === undefined) {
        name = key.keyText;
        const other = identityOf.get(name);
        if (other !== undefined && other !== key.keyIdentity) {
          report(
            { node: where, path: keyPath, quiet, severity: 'warning' },
            `two different keys both read as "${name}" (for example 1 and "1"); the last value is used`,
          );
        }
        nameOf.set(key.keyIdentity, name);
        identityOf.set(name, key.keyIdentity);
      }
      const childPath = [...path, name];
      if (!pair.fromMerge) {
        if (explicit.has(key.keyIdentity)) {
          report(
            { node: where, path: childPath, quiet, severity: 'warning' },
            `duplicate key "${name}": the last value is used`,
          );
        }
        explicit.add(key.keyIdentity);
      }
      positions.setKey(childPath, locate(offsetOf(where)));
      out[name] = convert(pair.value, childPath, depth, quiet);
    }
    return out;
  }

  function readKey(
    keyNode: Node | null,
    path: PathSegment[],
    quiet: boolean,
  ): ResolvedScalar | undefined {
    if (!keyNode) return { value: null, keyText: 'None', keyIdentity: 'None' };
    const node = isAlias(keyNode) ? follow(keyNode) : keyNode;
    if (node && isScalar(node)) {
      return readScalar(node, { path, expanding: quiet, isKey: true });
    }
    if (node) {
      report(
        { node: keyNode, path, quiet, severity: 'error' },
        'a list or mapping cannot be used as a mapping key; use a plain string key',
      );
    }
    return undefined;
  }

  function readScalar(
    node: Scalar,
    context: { path: PathSegment[]; expanding: boolean; isKey: boolean },
  ): ResolvedScalar {
    const text =
      typeof node.source === 'string' ? node.source : String(node.value ?? '');
    const tag = scalarTagOf(node);
    checkTag(node, 'scalar', context.path, context.expanding);
    const where = {
      node,
      path: context.path,
      quiet: context.expanding,
      offset:
        node.tag === undefined
          ? undefined
          : findTagOffset(sourceText, offsetOf(node)),
    };
    if (
      !context.isKey &&
      tag === 'implicit' &&
      (text === '=' || text === '<<')
    ) {
      report(
        { ...where, severity: 'error' },
        `PyYAML cannot read the plain value ${text}; quote it ("${text}")`,
      );
    }
    const resolution = resolveYaml11Scalar(text, tag);
    if (!resolution.ok) {
      report(
        { ...where, severity: 'error' },
        `${resolution.message}; PyYAML cannot read it (quote it to keep it as a string)`,
      );
      return { value: text, keyText: text, keyIdentity: `s:${text}` };
    }
    return resolution.scalar;
  }

  function checkTag(
    node: Node,
    use: TagUse,
    path: PathSegment[],
    quiet: boolean,
  ): void {
    if (node.tag === undefined) return;
    const offset = findTagOffset(sourceText, offsetOf(node));
    const problem = tagProblem(node, use, locate(offset).line);
    if (problem)
      report({ node, path, quiet, severity: 'error', offset }, problem);
  }

  function follow(alias: Alias): Node | undefined {
    aliasCount += 1;
    if (aliasCount > MAX_ALIASES) tooManyAliases(alias);
    return aliasTargets.get(alias);
  }

  function spend(amount: number, node: Node): void {
    expanded += amount;
    if (expanded > MAX_EXPANDED) tooManyAliases(node);
  }

  function tooManyAliases(node: Node): never {
    stop(
      outerAlias ?? node,
      `too many alias expansions (a YAML alias bomb?): more than ${MAX_ALIASES} aliases or ${MAX_EXPANDED} expanded values; use fewer aliases`,
    );
  }

  function stop(node: Node, message: string): never {
    report({ node, path: [], quiet: false, severity: 'error' }, message);
    throw new StopReading(message);
  }

  function report(
    where: {
      node: Node;
      path: PathSegment[];
      quiet: boolean;
      severity: Severity;
      offset?: number;
    },
    message: string,
  ): void {
    // Values reached through an alias were reported where they are defined.
    if (where.quiet) return;
    const { line, column } = locate(where.offset ?? offsetOf(where.node));
    findings.push({
      file,
      line,
      column,
      path: formatPath(where.path),
      severity: where.severity,
      message,
    });
  }
}

function asNode(item: unknown): Node | null {
  return isNode(item) ? item : null;
}
