/**
 * Commands built from hostile parameter values, run by a real POSIX shell:
 * every value must arrive as data in exactly the argument Valohai's
 * template puts it in, never as shell syntax.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../../src/config/build-command.js';
import { makeParameter, makeStep } from '../../helpers/config-builders.js';

const printArgs = `printf '%s\\0'`;

function runInShell(command: string): string[] {
  const out = execFileSync('sh', ['-c', command], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('buildCommand in sh', () => {
  it('passes hostile values as single arguments', () => {
    const value = fc
      .string({ unit: 'grapheme', maxLength: 30 })
      .filter((text) => !text.includes('\0'));
    const step = makeStep({
      command: [`${printArgs} {parameters} {parameter-value:b}`],
      parameters: [
        makeParameter({ name: 'a' }),
        makeParameter({ name: 'b', passAs: '-b {v}' }),
        makeParameter({ name: 'c', multiple: 'repeat', passAs: '{v}' }),
      ],
    });

    fc.assert(
      fc.property(
        value,
        value,
        fc.array(value, { maxLength: 3 }),
        (a, b, c) => {
          const [command = ''] = buildCommand(step, { a, b, c });

          expect(runInShell(command)).toEqual([`--a=${a}`, '-b', b, ...c, b]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
