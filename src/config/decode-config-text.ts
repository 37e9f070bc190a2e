/**
 * Turns the bytes of a pipeline file into text the way `kiln validate`
 * reads a file: UTF-8 only. Bytes that are not UTF-8 are a finding (a run
 * made from them fails with it), never silently replaced — the server
 * used to decode them leniently and run a file `kiln validate` refuses.
 */
import type { Finding } from './finding.js';

export function decodeConfigText(
  bytes: Uint8Array,
  file: string,
): { text: string; findings: Finding[] } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text, findings: [] };
  } catch {
    const text = new TextDecoder('utf-8').decode(bytes);
    const at = text.indexOf('\uFFFD');
    const before = text.slice(0, Math.max(0, at));
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    return {
      text,
      findings: [
        {
          file,
          line,
          column,
          path: '',
          severity: 'error',
          message: `the file is not valid UTF-8 (line ${line}, column ${column}); save it as UTF-8`,
        },
      ],
    };
  }
}
