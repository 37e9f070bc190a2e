/**
 * `kiln run NAME`: runs a step, a pipeline or a task of the current git checkout
 * exactly as the server would after a push — the configuration and the code
 * at the commit's SHA, in containers — and records every execution. The
 * heavy part is loaded only when the command runs.
 */
import type { Command } from 'commander';
import type { RunOptions } from '../actions/run-action.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run a step, pipeline or task of this checkout in containers, as the server would after a push',
    )
    .argument('<name>', 'pipeline, step or task name')
    .option(
      '-p, --param <name=value>',
      'override a parameter (repeatable; NODE.PARAM for a pipeline node)',
      collect,
      [],
    )
    .option('--commit <rev>', 'run another commit (branch, tag or SHA)')
    .option(
      '--adhoc',
      'run the work tree as it is, uncommitted changes included',
    )
    .option('--json', 'print the run and execution records as JSON at the end')
    .option(
      '--runtime <kind>',
      'docker, local or auto (default: KILN_RUNTIME or auto)',
    )
    .option(
      '--concurrency <n>',
      'steps run at once (default: KILN_CONCURRENCY or 2)',
    )
    .option('-C, --dir <path>', 'the git checkout', '.')
    .action(async (name: string, options: RunOptions) => {
      const { runAction } = await import('../actions/run-action.js');
      process.exitCode = await runAction(name, options);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
