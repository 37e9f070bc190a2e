/**
 * `kiln cancel`, `kiln approve`, `kiln rerun`: act on a run, on the local
 * store or (KILN_URL, KILN_TOKEN of an admin) on a kiln server.
 */
import type { Command } from 'commander';

export function registerControlCommands(program: Command): void {
  program
    .command('cancel')
    .description('cancel a run that has not ended (KILN_URL: on that kiln)')
    .argument('<run-id>', 'run id')
    .option('--json', 'print the run as JSON')
    .action(async (runId: string, options: { json?: boolean }) => {
      const { cancelAction } = await import('../actions/control-actions.js');
      await cancelAction(runId, options);
    });
  program
    .command('approve')
    .description(
      'release a run held for approval (a fork pull request); KILN_URL: on that kiln',
    )
    .argument('<run-id>', 'run id')
    .option(
      '--approver <login>',
      'the GitHub login recorded as approver (default: your user name)',
    )
    .option('--json', 'print the run as JSON')
    .action(
      async (runId: string, options: { json?: boolean; approver?: string }) => {
        const { approveAction } = await import('../actions/control-actions.js');
        await approveAction(runId, options);
      },
    );
  program
    .command('rerun')
    .description(
      'run a run again: same commit, configuration and parameters; unchanged steps reuse their results (locally it runs here, as kiln run does)',
    )
    .argument('<run-id>', 'run id')
    .option('--no-reuse', 'run every step again')
    .option('--follow', 'with KILN_URL: show the run until it ends')
    .option('--json', 'print the run (and, when followed, its end) as JSON')
    .action(
      async (
        runId: string,
        options: { json?: boolean; reuse: boolean; follow?: boolean },
      ) => {
        const { rerunAction } = await import('../actions/control-actions.js');
        process.exitCode = await rerunAction(runId, options);
      },
    );
}
