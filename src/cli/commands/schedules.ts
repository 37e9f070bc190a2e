/** `kiln schedules [ID]`: schedules with their next tick, or one with its ticks. */
import type { Command } from 'commander';

export function registerSchedulesCommand(program: Command): void {
  program
    .command('schedules')
    .description(
      "list schedules (triggers with a schedule, taken from each branch's kiln.yaml on push) with their next tick, or one schedule's ticks; KILN_URL for a remote kiln",
    )
    .argument('[id]', 'a schedule id: show its ticks')
    .option('--repository <owner/repo>', 'only this repository')
    .option('--branch <name>', 'only schedules of this branch')
    .option('--json', 'print JSON')
    .action(
      async (
        id: string | undefined,
        options: { repository?: string; branch?: string; json?: boolean },
      ) => {
        const { schedulesAction } =
          await import('../actions/schedules-action.js');
        process.exitCode = await schedulesAction(id, options);
      },
    );
}
