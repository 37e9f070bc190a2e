/**
 * `kiln submit` (a remote kiln's API: KILN_URL, KILN_TOKEN), `kiln status`
 * and `kiln compare` (the local store, or KILN_URL's kiln — the same
 * output and --json either way).
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
    .option(
      '--json',
      'print the created run (with --follow: the ended run) as JSON',
    )
    .option(
      '--follow',
      'show the run until it ends (exit 0 only when it completes)',
    )
    .action(
      async (
        name: string,
        options: {
          repository: string;
          ref: string;
          commit?: string;
          param: string[];
          json?: boolean;
          follow?: boolean;
        },
      ) => {
        const { submitAction } = await import('../actions/remote-actions.js');
        process.exitCode = await submitAction(name, options);
      },
    );
  program
    .command('status')
    .description(
      'show recent runs, or one run and its nodes (local store, or KILN_URL)',
    )
    .argument('[run-id]', 'run id')
    .option('--repository <owner/repo>', 'only this repository')
    .option(
      '--branch <name>',
      "only this branch's runs (its pushes and pull requests)",
    )
    .option('--json', 'print JSON')
    .action(
      async (
        runId: string | undefined,
        options: { repository?: string; branch?: string; json?: boolean },
      ) => {
        const { statusAction } = await import('../actions/remote-actions.js');
        await statusAction(runId, options);
      },
    );
  program
    .command('compare')
    .description(
      'parameters and final metrics of executions side by side, or of runs aligned by node; --base: a run against its base branch, as the PR comment shows it',
    )
    .argument('<ids...>', 'execution or run ids')
    .option('--base', 'compare each run with its base (pull request runs)')
    .option('--json', 'print JSON')
    .action(
      async (ids: string[], options: { json?: boolean; base?: boolean }) => {
        const { compareAction } = await import('../actions/remote-actions.js');
        await compareAction(ids, options);
      },
    );
}
