/**
 * The shell script both runtimes hand to `/bin/sh -c`. `set -e` makes the
 * first failing command end the execution with its exit code, the way
 * Valohai's own local runners chain commands with `&&`; the commands stay
 * separate lines so a multi-line command (a heredoc, a `\` continuation)
 * keeps its meaning.
 */
export function buildStepScript(commands: readonly string[]): string {
  return ['set -e', ...commands].join('\n');
}
