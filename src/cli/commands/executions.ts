/**
 * The inspection commands for recorded executions: `kiln executions`,
 * `kiln show ID`, `kiln logs ID [-f]`, `kiln outputs ID [--download DIR]`
 * — on the local store, or with KILN_URL on that kiln (the same output and
 * --json either way). Their work is loaded only when one of them runs.
 */
import type { Command } from 'commander';

export function registerExecutionCommands(program: Command): void {
  program
    .command('executions')
    .description('list recorded executions, newest first')
    .option(
      '--repository <name>',
      'only this repository (e.g. local/my-project or acme/models)',
    )
    .option('--run <id>', 'only executions of this run')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print the records as JSON')
    .action(
      async (options: {
        repository?: string;
        run?: string;
        limit: string;
        json?: boolean;
      }) => {
        const actions = await import('../actions/execution-actions.js');
        await actions.listExecutionsAction(options);
      },
    );

  program
    .command('show')
    .description(
      "everything recorded about one execution, or a run's tasks (RUN or RUN/TASK): children, parameters, metrics, best child",
    )
    .argument(
      '<id>',
      'execution id, #N for this repository, or a run id (RUN/TASK for one task)',
    )
    .option(
      '--repository <name>',
      'the repository of #N (default: local/<this folder>)',
    )
    .option('--json', 'print the record as JSON')
    .action(
      async (
        reference: string,
        options: { json?: boolean; repository?: string },
      ) => {
        const actions = await import('../actions/execution-actions.js');
        await actions.showExecutionAction(reference, options);
      },
    );

  program
    .command('logs')
    .description("print an execution's log")
    .argument('<id>', 'execution id, or #N for this repository')
    .option('-f, --follow', 'keep printing new lines until the execution ends')
    .option('--stream <name>', 'only stdout or stderr')
    .option(
      '--repository <name>',
      'the repository of #N (default: local/<this folder>)',
    )
    .action(
      async (
        reference: string,
        options: { follow?: boolean; stream?: string; repository?: string },
      ) => {
        const actions = await import('../actions/execution-actions.js');
        await actions.logsAction(reference, options);
      },
    );

  program
    .command('outputs')
    .description("list an execution's outputs, or download them")
    .argument('<id>', 'execution id, or #N for this repository')
    .option('--download <dir>', 'copy the output files into this folder')
    .option('--json', 'print the output records as JSON')
    .option(
      '--repository <name>',
      'the repository of #N (default: local/<this folder>)',
    )
    .action(
      async (
        reference: string,
        options: { download?: string; json?: boolean; repository?: string },
      ) => {
        const actions = await import('../actions/execution-actions.js');
        await actions.outputsAction(reference, options);
      },
    );
}
