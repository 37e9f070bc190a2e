/**
 * `kiln token create|list|revoke`: API tokens for scripts, the CLI against
 * a remote kiln and the web UI. A token is printed once and stored hashed.
 */
import type { Command } from 'commander';

export function registerTokenCommands(program: Command): void {
  const token = program
    .command('token')
    .description(
      'manage API tokens (viewer: read; admin: also launch, re-run, cancel, approve)',
    );
  token
    .command('create')
    .description('create a token and print it once')
    .requiredOption('--name <name>', 'a name to list and revoke it by, e.g. ci')
    .option('--role <role>', 'admin or viewer', 'viewer')
    .action(async (options: { name: string; role: string }) => {
      const { createTokenAction } = await import('../actions/token-action.js');
      await createTokenAction(options);
    });
  token
    .command('list')
    .description('list token names, roles and creation times (never tokens)')
    .action(async () => {
      const { listTokensAction } = await import('../actions/token-action.js');
      await listTokensAction();
    });
  token
    .command('revoke')
    .description('revoke a token by name')
    .argument('<name>', 'token name')
    .action(async (name: string) => {
      const { revokeTokenAction } = await import('../actions/token-action.js');
      await revokeTokenAction(name);
    });
}
