/**
 * Masks a secret that a step prints split across line breaks (`printf
 * '%s\n%s\n' "${S:0:10}" "${S:10}"`, `fold -w 20`, Base64 wrapped at a
 * width no tool list knows): the per-line masker can't see it, as each line
 * holds only a piece. The lines of one stream are joined without their
 * breaks, and a pattern (a secret or one of its encodings, from
 * listSecretPatterns) found across a join is masked in every line it
 * touches. Only a whole pattern is masked, never a piece on its own: a line
 * ending in `ghs_` is left alone unless the next lines complete the token.
 *
 * A line handed out can't be taken back, so a line whose end could start a
 * pattern is held until the next line of its stream shows whether it does
 * (or the caller gives up waiting: `release`). The held lines are bounded:
 * after the first one, each adds at least one character to a suffix that
 * is shorter than the longest pattern, so at most `longest - 1` lines are
 * held besides the first, and those hold at most `longest - 1` characters.
 * An empty line ends a join (and so can't grow the held lines).
 */
import { MASK, createPatternMatcher } from './secret-masker.js';

/** A line handed back, with its final text. */
export interface ReleasedLine<T> {
  item: T;
  text: string;
}

/**
 * One stream's lines, in order. Every pushed line comes back exactly once,
 * in order, from `push`, `release` or `reset`.
 */
export interface SplitSecretMasker<T> {
  /** The next line (already masked line by line); returns the lines now final. */
  push(text: string, item: T): ReleasedLine<T>[];
  /**
   * Hands out the held lines as they are (the caller waited long enough).
   * A later line still gets its own part of a split secret masked.
   */
  release(): ReleasedLine<T>[];
  /** Hands out the held lines and ends the join (e.g. a line that was cut). */
  reset(): ReleasedLine<T>[];
  /** The first held line's item, if a line is held. */
  oldest(): T | undefined;
  /** Split secrets whose earlier part had already been handed out. */
  partlyReleased(): number;
}

interface HeldLine<T> {
  item: T;
  text: string;
  /** Offset of the line's first character in the joined stream. */
  start: number;
  ranges: Array<[number, number]>;
}

/** `patterns` as listSecretPatterns gives them (longest first). */
export function createSplitSecretMasker<T>(
  patterns: readonly string[],
): SplitSecretMasker<T> {
  // A pattern with a line break can't be found in lines joined without it.
  const joinable = patterns.filter((p) => !/[\r\n]/.test(p));
  const longest = joinable.reduce((max, p) => Math.max(max, p.length), 0);
  const trie = buildPrefixTrie(joinable);
  const matcher = joinable.length > 0 ? createPatternMatcher(joinable) : null;
  let held: Array<HeldLine<T>> = [];
  // The joined stream's last `longest - 1` characters, and its length.
  let context = '';
  let total = 0;
  // How much of the context's end could start a pattern: only there can a
  // pattern cross into the next line.
  let open = 0;
  let partly = 0;

  function push(text: string, item: T): ReleasedLine<T>[] {
    if (matcher === null) return [{ item, text }];
    if (text === '') return [...reset(), { item, text }];
    const start = total;
    // Only a pattern that starts in this part can cross into the line.
    const ahead = open > 0 ? context.slice(-open) : '';
    total += text.length;
    context =
      text.length >= longest - 1
        ? text.slice(-(longest - 1))
        : (context + text).slice(-(longest - 1));
    open = trie.longestPrefixSuffix(context);
    // The common line: nothing held, nothing open before or after it.
    if (ahead === '' && open === 0 && held.length === 0) {
      return [{ item, text }];
    }
    const line: HeldLine<T> = { item, text, start, ranges: [] };
    if (ahead !== '') markCrossing(line, ahead);
    held.push(line);
    // Lines that hold part of a suffix a pattern could start with stay.
    const keepFrom = total - open;
    const released: ReleasedLine<T>[] = [];
    while (
      held.length > 0 &&
      held[0]!.start + held[0]!.text.length <= keepFrom
    ) {
      released.push(finish(held.shift()!));
    }
    return released;
  }

  /** Marks the patterns that start in `ahead` and end in `line`. */
  function markCrossing(line: HeldLine<T>, ahead: string): void {
    const before = ahead.length;
    const contextStart = line.start - before;
    const probe = ahead + line.text.slice(0, longest);
    matcher!.lastIndex = 0;
    for (let m = matcher!.exec(probe); m !== null; m = matcher!.exec(probe)) {
      if (m.index >= before) break;
      const end = m.index + m[0].length;
      if (end <= before) continue;
      line.ranges.push([0, end - before]);
      const from = contextStart + m.index;
      if (held.length === 0 || held[0]!.start > from) partly++;
      for (const earlier of held) {
        const lineEnd = earlier.start + earlier.text.length;
        if (lineEnd <= from) continue;
        earlier.ranges.push([
          Math.max(0, from - earlier.start),
          earlier.text.length,
        ]);
      }
    }
  }

  function release(): ReleasedLine<T>[] {
    const released = held.map(finish);
    held = [];
    return released;
  }

  function reset(): ReleasedLine<T>[] {
    context = '';
    open = 0;
    return release();
  }

  return {
    push,
    release,
    reset,
    oldest: () => held[0]?.item,
    partlyReleased: () => partly,
  };
}

function finish<T>(line: HeldLine<T>): ReleasedLine<T> {
  if (line.ranges.length === 0) return { item: line.item, text: line.text };
  const ranges = [...line.ranges].sort((a, b) => a[0] - b[0]);
  let text = '';
  let at = -1;
  for (const [from, to] of ranges) {
    // Overlapping or touching ranges are one mask.
    if (from > at) text += line.text.slice(Math.max(at, 0), from) + MASK;
    at = Math.max(at, to);
  }
  return { item: line.item, text: text + line.text.slice(at) };
}

/**
 * The patterns' prefixes, to find how much of a text's end could start one.
 * One map keyed by node and character keeps thousands of nodes cheap.
 */
function buildPrefixTrie(patterns: readonly string[]) {
  const edges = new Map<number, number>();
  const inner = new Set<number>();
  // The characters patterns start with: most positions fail on this alone.
  const first = new Uint8Array(0x10000);
  let nodes = 1;
  for (const pattern of patterns) {
    first[pattern.charCodeAt(0)] = 1;
    let node = 0;
    for (let i = 0; i < pattern.length; i++) {
      const key = node * 0x10000 + pattern.charCodeAt(i);
      let next = edges.get(key);
      if (next === undefined) {
        next = nodes++;
        edges.set(key, next);
      }
      inner.add(node);
      node = next;
    }
  }
  return {
    /**
     * Length of the longest suffix of `text` that is a proper prefix of a
     * pattern (0 if none). O(n²) at worst for n < longest pattern; most
     * starting points fail at their first or second character.
     */
    longestPrefixSuffix(text: string): number {
      for (let i = 0; i < text.length; i++) {
        if (first[text.charCodeAt(i)] === 0) continue;
        let node = 0;
        let j = i;
        for (; j < text.length; j++) {
          const next = edges.get(node * 0x10000 + text.charCodeAt(j));
          if (next === undefined) break;
          node = next;
        }
        if (j === text.length && inner.has(node)) return text.length - i;
      }
      return 0;
    },
  };
}
