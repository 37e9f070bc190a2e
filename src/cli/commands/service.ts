/**
 * The service: `kiln up` (everything on one machine), `kiln server` (HTTP:
 * webhooks, API, UI) and `kiln worker` (runs steps), sharing one Redis.
 */
import type { Command } from 'commander';
import type { ServiceOptions } from '../actions/service-action.js';

export function registerServiceCommands(program: Command): void {
  const common = (command: Command) =>
    command
      .option('--port <port>', 'HTTP port (default: KILN_PORT or 8080)')
      .option(
        '--concurrency <n>',
        'steps this worker runs at once (default: KILN_CONCURRENCY or 2)',
      )
      .option(
        '--data-dir <dir>',
        'kiln data dir (default: KILN_DATA_DIR or ~/.kiln)',
      );
  common(
    program
      .command('up')
      .description(
        'start everything on this machine: server, a worker, and a private redis-server when REDIS_URL is not set',
      ),
  ).action(async (options: ServiceOptions) => {
    const { serviceAction } = await import('../actions/service-action.js');
    await serviceAction('up', options);
  });
  common(
    program
      .command('server')
      .description(
        'start the HTTP server: webhooks, API and UI (no steps run here)',
      ),
  ).action(async (options: ServiceOptions) => {
    const { serviceAction } = await import('../actions/service-action.js');
    await serviceAction('server', options);
  });
  common(
    program
      .command('worker')
      .description('start a worker that runs steps from the shared queue'),
  ).action(async (options: ServiceOptions) => {
    const { serviceAction } = await import('../actions/service-action.js');
    await serviceAction('worker', options);
  });
}
