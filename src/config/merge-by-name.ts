/**
 * Items sharing a name collapse into one, at the position of the first and
 * with the content of the last: what Valohai does (plan-json.md).
 */
export function mergeByName<T extends { name: string }>(
  items: readonly T[],
): T[] {
  const merged: T[] = [];
  const positions = new Map<string, number>();
  for (const item of items) {
    const position = positions.get(item.name);
    if (position === undefined) {
      positions.set(item.name, merged.length);
      merged.push(item);
    } else {
      merged[position] = item;
    }
  }
  return merged;
}
