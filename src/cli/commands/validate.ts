/** `kiln validate [FILE|DIR] [--json]`: check a configuration file. */
import type { Command } from 'commander';

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description(
      'check kiln.yaml (or valohai.yaml) and print every problem with its line; exit 1 on errors',
    )
    .argument(
      '[path]',
      'a configuration file, or the directory holding it',
      '.',
    )
    .option('--json', 'print {file, valid, findings} as JSON')
    .action(async (path: string, options: { json?: boolean }) => {
      const { validateAction } = await import('../actions/validate-action.js');
      process.exitCode = await validateAction(path, options);
    });
}
