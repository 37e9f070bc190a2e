/**
 * Where a step is written in a configuration text: the line and column of
 * its `name`, so a failed step can be pointed at (a check run annotation).
 * A step defined twice is the last definition (its content is the one that
 * ran: `mergeByName`). Pure; undefined when the text has no such step.
 */
import { isMapping } from './describe-value.js';
import { readYaml } from './read-yaml.js';
import type { SourcePosition } from './yaml-document.js';

export interface LocateStepOptions {
  text: string;
  /** The file name, as the user knows it (`kiln.yaml`). */
  file: string;
  step: string;
  /** Falls back to this pipeline's node of that name when no step matches. */
  pipeline?: string;
  node?: string;
}

export function locateStep(
  options: LocateStepOptions,
): SourcePosition | undefined {
  const document = readYaml(options.text, { file: options.file });
  if (!Array.isArray(document.value)) return undefined;
  const items = document.value as unknown[];
  let found: SourcePosition | undefined;
  items.forEach((item, index) => {
    const step = isMapping(item) ? item.step : undefined;
    if (isMapping(step) && step.name === options.step)
      found = document.positions.valueAt([index, 'step', 'name']);
  });
  if (found || options.pipeline === undefined) return found;
  items.forEach((item, index) => {
    const pipeline = isMapping(item) ? item.pipeline : undefined;
    if (!isMapping(pipeline) || pipeline.name !== options.pipeline) return;
    const nodes = Array.isArray(pipeline.nodes) ? pipeline.nodes : [];
    nodes.forEach((node: unknown, nodeIndex) => {
      if (isMapping(node) && node.name === (options.node ?? options.step))
        found = document.positions.valueAt([
          index,
          'pipeline',
          'nodes',
          nodeIndex,
          'name',
        ]);
    });
  });
  return found;
}
