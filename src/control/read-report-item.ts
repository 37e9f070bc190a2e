/**
 * A run's configuration as the reporter needs it: the text (to point at a
 * failed step's line) and the first `report` item. Configurations are
 * stored by content hash, so a parsed one is kept for the next report of
 * any run at the same configuration.
 */
import type { Report } from '../config/config-model.js';
import { loadConfig } from '../config/load-config.js';
import type { RunRecord } from '../model/run.js';
import type { ConfigStore } from '../store/index.js';

export interface RunConfig {
  file: string;
  text: string;
  report?: Report;
}

const CACHE_SIZE = 50;
const cache = new Map<string, RunConfig>();

export async function readRunConfig(
  configs: Pick<ConfigStore, 'load'>,
  run: RunRecord,
): Promise<RunConfig | undefined> {
  if (!run.config) return undefined;
  const cacheKey = `${run.config.file}\n${run.config.key}`;
  const known = cache.get(cacheKey);
  if (known) return known;
  try {
    const text = await configs.load(run.config.key);
    if (text === null) return undefined;
    const report = loadConfig(text, { file: run.config.file }).config
      .reports[0];
    const loaded: RunConfig = { file: run.config.file, text, report };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(cacheKey, loaded);
    return loaded;
  } catch {
    return undefined;
  }
}

export async function readReportItem(
  configs: Pick<ConfigStore, 'load'>,
  run: RunRecord,
): Promise<Report | undefined> {
  return (await readRunConfig(configs, run))?.report;
}
