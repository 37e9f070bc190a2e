/**
 * Python's `shlex.quote`, which Valohai applies to every token it puts into
 * a command. Matching it exactly keeps kiln's commands byte-identical to
 * Valohai's.
 */
const UNSAFE = /[^A-Za-z0-9_@%+=:,./-]/;

export function shellQuote(token: string): string {
  if (token === '') return "''";
  if (!UNSAFE.test(token)) return token;
  return `'${token.replaceAll("'", `'"'"'`)}'`;
}
