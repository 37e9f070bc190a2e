import type { Socket } from './config-model.js';

/**
 * Splits an edge specifier on its first two dots, so keys may contain dots
 * (`train.output.model.pb` → node `train`, type `output`, key `model.pb`).
 * Undefined when there are fewer than three parts.
 */
export function parseSocket(specifier: string): Socket | undefined {
  const first = specifier.indexOf('.');
  if (first < 0) return undefined;
  const second = specifier.indexOf('.', first + 1);
  if (second < 0) return undefined;
  return {
    node: specifier.slice(0, first),
    type: specifier.slice(first + 1, second),
    key: specifier.slice(second + 1),
  };
}

/** Valohai's socket types; plurals are read as these (with a warning). */
export const socketTypes = [
  'output',
  'input',
  'parameter',
  'metadata',
  'file',
  'deployment',
  'environment-variable',
  'dependency',
] as const;

export const pluralSocketTypes: Record<string, string> = {
  outputs: 'output',
  inputs: 'input',
  parameters: 'parameter',
};

/** The singular type for a type as written, or undefined if unknown. */
export function canonicalSocketType(type: string): string | undefined {
  if ((socketTypes as readonly string[]).includes(type)) return type;
  return pluralSocketTypes[type];
}
