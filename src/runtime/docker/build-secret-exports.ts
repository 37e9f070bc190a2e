/**
 * The shell lines that turn `files`-delivered secrets back into environment
 * variables before a step's commands run, so a step reads `$NAME` as it
 * would under Valohai. Only names reach the script, and only names that are
 * shell variable names; values are read from the files at run time and
 * never become shell code. `printf x` keeps trailing newlines, which `$(…)`
 * would strip, and makes a failed `cat` (no such program in the image) end
 * the step with a message instead of an empty variable.
 */

/** Where the secrets folder is mounted in the container, read-only. */
export const SECRETS_CONTAINER_PATH = '/run/kiln/secrets';

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type BuildSecretExportsResult =
  { ok: true; lines: string[] } | { ok: false; problem: string };

export function buildSecretExports(
  names: readonly string[],
): BuildSecretExportsResult {
  const lines: string[] = [];
  for (const name of names) {
    if (!SHELL_NAME.test(name)) {
      return {
        ok: false,
        problem: `secret name "${name}" can't be delivered as a file (letters, digits and "_", not starting with a digit)`,
      };
    }
    const file = `${SECRETS_CONTAINER_PATH}/${name}`;
    lines.push(
      `${name}=$(cat ${file} && printf x) || { echo "kiln: could not read secret ${name} from ${file} (KILN_SECRETS_DELIVERY=files needs cat in the image)" >&2; exit 125; }`,
      `${name}=\${${name}%x}`,
      `export ${name}`,
    );
  }
  return { ok: true, lines };
}
