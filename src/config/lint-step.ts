/** Checks of one step beyond its schema: names, presets, expressions. */
import { explainUnsafePathName } from './check-path-name.js';
import { explainInvalidExpression } from './evaluate-expression.js';
import { explainUnpinnedImage } from './explain-unpinned-image.js';
import { quoteName } from './describe-value.js';
import { addAdvice, addError, addWarning } from './finding-sink.js';
import type { FindingSink } from './finding-sink.js';
import { lintParameter } from './lint-parameter.js';
import { parseDuration } from './parse-duration.js';
import { readMappingItems } from './read-field.js';
import type { PathSegment } from './yaml-document.js';

/** Reports a name that would be unsafe as a folder or file name. */
export function lintPathName(
  sink: FindingSink,
  options: { name: unknown; path: PathSegment[]; what: string },
): void {
  if (typeof options.name !== 'string') return;
  const problem = explainUnsafePathName(options.name);
  if (problem !== undefined) {
    addError(
      sink,
      options.path,
      `${options.what} name ${quoteName(options.name)} ${problem}`,
    );
  }
}

/** Reports names used twice within one list (inputs, parameters, …). */
function lintUniqueNames(
  sink: FindingSink,
  options: { list: unknown; path: PathSegment[]; what: string; owner: string },
): void {
  const seen = new Set<string>();
  for (const { index, item } of readMappingItems(options.list)) {
    if (typeof item.name !== 'string') continue;
    if (seen.has(item.name)) {
      addWarning(
        sink,
        [...options.path, index, 'name'],
        `${options.what} ${quoteName(item.name)} is declared twice in ${options.owner}; the last one wins`,
      );
    }
    seen.add(item.name);
  }
}

/** Checks the parts a step shares with a node override. */
export function lintStepLike(
  sink: FindingSink,
  options: { raw: Record<string, unknown>; path: PathSegment[]; owner: string },
): void {
  const { raw, path, owner } = options;
  for (const { index, item } of readMappingItems(raw.parameters)) {
    lintParameter(sink, {
      raw: item,
      path: [...path, 'parameters', index],
      owner,
    });
  }
  for (const { index, item } of readMappingItems(raw.inputs)) {
    lintInputCredentials(sink, {
      raw: item,
      path: [...path, 'inputs', index],
      owner,
    });
  }
  for (const kind of ['input', 'output'] as const) {
    const key = `${kind}s`;
    for (const { index, item } of readMappingItems(raw[key])) {
      lintPathName(sink, {
        name: item.name,
        path: [...path, key, index, 'name'],
        what: kind,
      });
    }
  }
  lintUniqueNames(sink, {
    list: raw.parameters,
    path: [...path, 'parameters'],
    what: 'parameter',
    owner,
  });
  lintUniqueNames(sink, {
    list: raw.inputs,
    path: [...path, 'inputs'],
    what: 'input',
    owner,
  });
  if (
    typeof raw['runtime-config-preset'] === 'string' &&
    raw.environment === undefined
  ) {
    addError(
      sink,
      [...path, 'runtime-config-preset'],
      `"runtime-config-preset" in ${owner} needs "environment" to be set too`,
    );
  }
}

/**
 * An input URL with `user:password@` works (kiln sends it as basic auth and
 * keeps it out of every record, event and log), but the file itself shows
 * it to anyone who can read the repository. The message never repeats it:
 * findings are stored with the run.
 */
function lintInputCredentials(
  sink: FindingSink,
  options: { raw: Record<string, unknown>; path: PathSegment[]; owner: string },
): void {
  const { raw, path, owner } = options;
  const defaults = Array.isArray(raw.default) ? raw.default : [raw.default];
  defaults.forEach((value, index) => {
    if (typeof value !== 'string' || !hasUrlCredentials(value)) return;
    const name = typeof raw.name === 'string' ? `${quoteName(raw.name)} ` : '';
    addAdvice(
      sink,
      Array.isArray(raw.default)
        ? [...path, 'default', index]
        : [...path, 'default'],
      `input ${name}of ${owner} has a user and password in its URL: kiln sends them as basic auth and keeps them out of its records, but anyone who can read this file sees them; put the file where a secret opens it (s3:// with the repository's AWS_* secrets) instead`,
    );
  });
}

function hasUrlCredentials(value: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

export function lintExpression(
  sink: FindingSink,
  options: {
    value: unknown;
    path: PathSegment[];
    what: string;
    /** Valohai only checks stop-conditions; kiln warns about the rest. */
    severity?: 'error' | 'warning';
  },
): void {
  if (typeof options.value !== 'string') return;
  const problem = explainInvalidExpression(options.value);
  if (problem !== undefined) {
    (options.severity === 'warning' ? addWarning : addError)(
      sink,
      options.path,
      `${options.what} is not a valid expression (${problem}): ${quoteName(options.value)}`,
    );
  }
}

export function lintStep(
  sink: FindingSink,
  options: { raw: Record<string, unknown>; path: PathSegment[] },
): void {
  const { raw, path } = options;
  const owner =
    typeof raw.name === 'string' ? `step ${quoteName(raw.name)}` : 'step';
  lintPathName(sink, { name: raw.name, path: [...path, 'name'], what: 'step' });
  lintStepLike(sink, { raw, path, owner });
  const unpinned =
    typeof raw.image === 'string' && raw.image.trim() !== ''
      ? explainUnpinnedImage(raw.image)
      : undefined;
  if (unpinned !== undefined) {
    addAdvice(
      sink,
      [...path, 'image'],
      `image ${quoteName(raw.image as string)} of ${owner} is not pinned (${unpinned}): the image that runs can change between runs of the same commit; pin a tag (name:1.2) or a digest (name@sha256:…)`,
    );
  }
  lintExpression(sink, {
    value: raw['stop-condition'],
    path: [...path, 'stop-condition'],
    what: `"stop-condition" of ${owner}`,
  });
  for (const key of ['time-limit', 'no-output-timeout']) {
    const value = raw[key];
    if (typeof value === 'string' && parseDuration(value) === undefined) {
      addError(
        sink,
        [...path, key],
        `"${key}" of ${owner} is not a valid duration: ${quoteName(value)}; write seconds or e.g. "1h 30m"`,
      );
    }
  }
}
