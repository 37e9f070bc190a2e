import type { Finding, Severity } from './finding.js';
import { formatPath } from './yaml-document.js';
import type { PathSegment, PositionIndex } from './yaml-document.js';

/**
 * Where checks put their findings. Created once per file by loadConfig and
 * handed to every check; checks only append.
 */
export interface FindingSink {
  file: string;
  positions: PositionIndex;
  /** The source text, to quote scalars as written; optional. */
  text?: string;
  findings: Finding[];
}

export interface FindingInput {
  path: readonly PathSegment[];
  severity: Severity;
  message: string;
  /** Point at the mapping key rather than its value (unknown keys). */
  atKey?: boolean;
  /** kiln's own advice, see `Finding.advice`. */
  advice?: boolean;
}

export function addFinding(sink: FindingSink, input: FindingInput): void {
  const position = input.atKey
    ? sink.positions.keyAt(input.path)
    : sink.positions.valueAt(input.path);
  sink.findings.push({
    file: sink.file,
    line: position.line,
    column: position.column,
    path: formatPath(input.path),
    severity: input.severity,
    message: input.message,
    ...(input.advice ? { advice: true as const } : {}),
  });
}

export function addError(
  sink: FindingSink,
  path: readonly PathSegment[],
  message: string,
): void {
  addFinding(sink, { path, severity: 'error', message });
}

export function addWarning(
  sink: FindingSink,
  path: readonly PathSegment[],
  message: string,
): void {
  addFinding(sink, { path, severity: 'warning', message });
}

/** A warning from a check Valohai's linter doesn't make. */
export function addAdvice(
  sink: FindingSink,
  path: readonly PathSegment[],
  message: string,
): void {
  addFinding(sink, { path, severity: 'warning', message, advice: true });
}
