import { createDeliveryLog } from '../intake/delivery-log.js';
import type { ApiContext } from './api-context.js';

/** Repositories kiln knows: those with runs or webhook deliveries. */
export async function listRepositories(
  context: ApiContext,
): Promise<Array<{ name: string; lastRunAt?: string; sourceUrl?: string }>> {
  const { deps } = context;
  const found = new Map<
    string,
    { name: string; lastRunAt?: string; sourceUrl?: string }
  >();
  const recent = await deps.control.runs.listRuns({ limit: 1000 });
  for (const run of recent) {
    if (found.has(run.repository)) continue;
    found.set(run.repository, {
      name: run.repository,
      lastRunAt: run.createdAt,
      ...(run.source && !run.source.tree ? { sourceUrl: run.source.url } : {}),
    });
  }
  const deliveries = createDeliveryLog(deps.redis, {
    keys: deps.keys,
  });
  for (const delivery of await deliveries.listDeliveries({ limit: 500 })) {
    if (delivery.repository && !found.has(delivery.repository)) {
      found.set(delivery.repository, { name: delivery.repository });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** `main` → `refs/heads/main`; a full ref is kept. */
export function fullRef(branch: string | undefined): string | undefined {
  if (branch === undefined) return undefined;
  return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
}
