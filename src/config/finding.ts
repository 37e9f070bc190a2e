/**
 * A problem found in a pipeline configuration. Findings are data, not
 * exceptions: every check appends to a list so a user sees all of them at
 * once, like a compiler.
 */
export type Severity = 'error' | 'warning';

export interface Finding {
  /** File the finding is about, as the user named it (e.g. `kiln.yaml`). */
  file: string;
  /** 1-based line; 0 when the finding is about the file as a whole. */
  line: number;
  /** 1-based column; 0 when unknown. */
  column: number;
  /**
   * Where in the document, as a dotted path of keys and indexes
   * (`0.step.parameters.2.default`); empty for the whole file.
   */
  path: string;
  severity: Severity;
  /** One sentence saying what is wrong and how to fix it. */
  message: string;
  /**
   * Set on kiln's own advice — checks Valohai's linter doesn't make (an
   * edge into an undeclared input, a cycle, an unconnected node). Always a
   * warning; `kiln validate` shows it, `kiln plan --json` leaves it out so
   * its `warnings` are exactly Valohai's.
   */
  advice?: true;
}

/** `kiln.yaml:12:5 error: unknown key "imagee" … — did you mean "image"?` */
export function formatFinding(finding: Finding): string {
  const where =
    finding.line > 0
      ? `${finding.file}:${finding.line}:${finding.column}`
      : finding.file;
  return `${where} ${finding.severity}: ${finding.message}`;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}
