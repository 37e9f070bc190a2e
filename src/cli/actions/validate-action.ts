/** The work of `kiln validate`: read, check, print like a compiler. */
import { formatFinding } from '../../config/finding.js';
import { loadConfig } from '../../config/load-config.js';
import {
  ConfigFileError,
  readConfigFile,
  maxConfigBytes,
} from '../read-config-file.js';

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Returns the exit code: 0 valid (warnings allowed), 1 errors in the file,
 * 2 the file could not be found or read.
 */
export async function validateAction(
  path: string,
  options: { json?: boolean },
): Promise<number> {
  let file: string;
  let text: string;
  try {
    ({ file, text } = await readConfigFile(path));
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    process.stderr.write(`kiln validate: ${error.message}\n`);
    return 2;
  }
  const loaded = loadConfig(text, { file, maxBytes: maxConfigBytes });
  if (options.json) {
    const { findings, valid } = loaded;
    process.stdout.write(
      `${JSON.stringify({ file, valid, findings }, null, 2)}\n`,
    );
    return valid ? 0 : 1;
  }
  for (const finding of loaded.findings) {
    process.stdout.write(`${formatFinding(finding)}\n`);
  }
  const errors = loaded.findings.filter(
    (finding) => finding.severity === 'error',
  ).length;
  const warnings = loaded.findings.length - errors;
  const verdict = loaded.valid ? 'valid' : 'invalid';
  process.stdout.write(
    `${file}: ${verdict}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
  );
  return loaded.valid ? 0 : 1;
}
