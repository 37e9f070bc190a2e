/** `kiln events [RUN]`: what happens to runs, as it happens. */
import type { Command } from 'commander';

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description(
      "print run events as they happen: one run's every change (from its start, until it ends), or every run's status changes (from now); KILN_URL to watch a remote kiln",
    )
    .argument('[run-id]', 'a run id (all runs when left out)')
    .option('--json', 'one JSON object per line, with its stream id')
    .option(
      '--no-follow',
      "print what is stored and exit (the last 100 status changes, or the run's events)",
    )
    .option(
      '--after <id>',
      'start after this event id (resume where an earlier `kiln events` stopped)',
    )
    .action(
      async (
        runId: string | undefined,
        options: { json?: boolean; follow: boolean; after?: string },
      ) => {
        const { eventsAction } = await import('../actions/events-action.js');
        process.exitCode = await eventsAction(runId, options);
      },
    );
}
