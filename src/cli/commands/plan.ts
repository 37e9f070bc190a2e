/**
 * `kiln plan [NAME] [FILE]`: what kiln would run for a step or a pipeline
 * of a kiln.yaml / valohai.yaml file, without running anything. The work is
 * loaded only when the command runs.
 */
import type { Command } from 'commander';
import type { PlanOptions } from '../actions/plan-action.js';

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description(
      'show the commands a step, pipeline or task would run (--all --json: the whole file as JSON)',
    )
    .argument('[name]', 'step, pipeline or task name (omit with --all)')
    .argument(
      '[file]',
      'config file or directory (default: kiln.yaml, else valohai.yaml)',
    )
    .option(
      '-p, --param <name=value>',
      'override a parameter (repeatable; NODE.PARAM or a pipeline parameter for a pipeline)',
      collect,
      [],
    )
    .option('--all', 'plan every step and pipeline of the file')
    .option(
      '--json',
      'print JSON on stdout (the format: docs/plan-json.md in kiln, shipped with the package)',
    )
    .action(
      async (
        first: string | undefined,
        second: string | undefined,
        options: PlanOptions,
      ) => {
        const { planAction } = await import('../actions/plan-action.js');
        process.exitCode = await planAction({ first, second }, options);
      },
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
