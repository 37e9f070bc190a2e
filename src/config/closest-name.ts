/**
 * Edit distance counting a swap of two neighbours as one edit (optimal
 * string alignment), bounded so that long hostile keys stay cheap.
 */
export function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Math.max(a.length, b.length);
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      }
      current[j] = best;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

const maxCandidates = 500;

/**
 * The known name closest to a misspelt one, or undefined when nothing is
 * close enough to be a plausible typo: at most a third of the letters off.
 * Names under three letters are one edit away from everything: no guess.
 */
export function findClosestName(
  name: string,
  known: readonly string[],
): string | undefined {
  // A hostile file can pair thousands of bad references with thousands of
  // names; past this many candidates no guess is worth the time.
  if (known.length > maxCandidates) return undefined;
  const allowed =
    name.length < 3 ? 0 : Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (Math.abs(candidate.length - name.length) > allowed) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= allowed ? best : undefined;
}

/** ` — did you mean "image"?` or nothing. */
export function formatSuggestion(
  name: string,
  known: readonly string[],
): string {
  const closest = findClosestName(name, known);
  return closest === undefined ? '' : ` — did you mean "${closest}"?`;
}
