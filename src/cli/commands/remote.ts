/**
 * Commands against a remote kiln's REST API (KILN_URL, KILN_TOKEN):
 * `kiln submit`, `kiln status`, `kiln compare`. `kiln logs ID -f` also
 * uses the API when KILN_URL is set.
 */
import type { Command } from 'commander';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRemoteCommands(program: Command): void {
  program
    .command('submit')
    .description(
      'launch a step or pipeline on a remote kiln (KILN_URL, KILN_TOKEN)',
    )
    .argument('<name>', 'pipeline or step name')
    .requiredOption(
      '--repository <owner/repo>',
      'repository known to that kiln',
    )
    .option('--ref <branch>', 'branch or tag to run', 'main')
    .option('--commit <sha>', 'full commit SHA to run (instead of --ref)')
    .option(
      '-p, --param <name=value>',
      'override a parameter (repeatable; NODE.PARAM for a pipeline node)',
      collect,
      [],
    )
    .option('--json', 'print the created run as JSON')
    .action(
      async (
        name: string,
        options: {
          repository: string;
          ref: string;
          commit?: string;
          param: string[];
          json?: boolean;
        },
      ) => {
        const { submitAction } = await import('../actions/remote-actions.js');
        await submitAction(name, options);
      },
    );
  program
    .command('status')
    .description('show recent runs, or one run and its nodes, on a remote kiln')
    .argument('[run-id]', 'run id')
    .option('--repository <owner/repo>', 'only this repository')
    .option('--json', 'print JSON')
    .action(
      async (
        runId: string | undefined,
        options: { repository?: string; json?: boolean },
      ) => {
        const { statusAction } = await import('../actions/remote-actions.js');
        await statusAction(runId, options);
      },
    );
  program
    .command('compare')
    .description(
      'parameters and final metrics of executions (or runs) side by side',
    )
    .argument('<ids...>', 'execution or run ids')
    .action(async (ids: string[]) => {
      const { compareAction } = await import('../actions/remote-actions.js');
      await compareAction(ids);
    });
}
