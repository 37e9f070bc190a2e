/**
 * `kiln secret set|list|delete`: per-repository secrets for trusted runs.
 * The value is read from standard input (never from the command line, so it
 * stays out of shell history and process lists).
 */
import type { Command } from 'commander';

export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description(
      'manage per-repository secrets given to trusted runs as environment variables',
    );
  secret
    .command('set')
    .description('set a secret; the value is read from standard input')
    .argument('<repository>', 'OWNER/REPO')
    .argument('<name>', 'environment variable name, e.g. WANDB_API_KEY')
    .action(async (repository: string, name: string) => {
      const { setSecretAction } = await import('../actions/secret-action.js');
      await setSecretAction(repository, name);
    });
  secret
    .command('list')
    .description("list a repository's secret names (never values)")
    .argument('<repository>', 'OWNER/REPO')
    .action(async (repository: string) => {
      const { listSecretsAction } = await import('../actions/secret-action.js');
      await listSecretsAction(repository);
    });
  secret
    .command('delete')
    .description('delete a secret')
    .argument('<repository>', 'OWNER/REPO')
    .argument('<name>', 'secret name')
    .action(async (repository: string, name: string) => {
      const { deleteSecretAction } =
        await import('../actions/secret-action.js');
      await deleteSecretAction(repository, name);
    });
}
