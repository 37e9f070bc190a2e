/**
 * Rewrites container paths (`/valohai/outputs/x`) to the host folders that
 * stand in for them when steps run as local processes. Only whole path
 * segments match: `/valohai/outputs2` is not under `/valohai/outputs`.
 */
export function mapLocalPath(
  value: string,
  localPaths: Readonly<Record<string, string>>,
): string {
  let best: string | null = null;
  for (const containerPath of Object.keys(localPaths)) {
    const prefix = containerPath.replace(/\/+$/, '');
    if (prefix === '') continue;
    const matches = value === prefix || value.startsWith(`${prefix}/`);
    if (matches && (best === null || prefix.length > best.length)) {
      best = prefix;
    }
  }
  if (best === null) return value;
  const hostPath = localPaths[best] ?? localPaths[`${best}/`] ?? best;
  return hostPath.replace(/\/+$/, '') + value.slice(best.length);
}
