/**
 * Names that become folder or file names in a container or on a worker
 * (inputs, outputs, steps, pipeline nodes). kiln refuses those that could
 * step out of their folder: this is the one place where kiln is stricter
 * than Valohai, on purpose.
 */

// C0 and C1 control characters and DEL.
function hasControlCharacter(name: string): boolean {
  for (const character of name) {
    const code = character.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Why `name` is unsafe as a path segment, or undefined when it is fine. */
export function explainUnsafePathName(name: string): string | undefined {
  if (name.trim() === '') {
    // An empty node name passed validation and its run never started.
    return 'is empty; give it a name';
  }
  if (hasControlCharacter(name)) {
    return 'contains a control character; use printable characters only';
  }
  if (name.includes('\\')) {
    return 'contains a backslash; use "/" or plain names';
  }
  if (name.startsWith('/')) {
    return 'is an absolute path; use a relative name';
  }
  if (name.split('/').some((segment) => segment === '..')) {
    return 'would escape its folder; remove the ".." segments';
  }
  return undefined;
}
