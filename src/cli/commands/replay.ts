/**
 * `kiln replay FILE`: sends a recorded webhook delivery to kiln again,
 * signed with KILN_WEBHOOK_SECRET, and prints kiln's answer — for trying
 * triggers without a forge, and for re-sending what a forge once sent.
 */
import type { Command } from 'commander';
import type { ReplayOptions } from '../actions/replay-action.js';

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description(
      'sign a recorded webhook delivery with KILN_WEBHOOK_SECRET and POST it to kiln; prints the answer',
    )
    .argument(
      '<file>',
      'a recorded delivery {"event", "payload"} (webhooks/deliveries/*.json), or a raw payload with --event',
    )
    .option('--event <name>', 'the X-GitHub-Event of a raw payload')
    .option(
      '--url <url>',
      'where to send it (default: http://localhost:$KILN_PORT/webhooks/github)',
    )
    .option(
      '--delivery <id>',
      'the X-GitHub-Delivery to send (default: a new one; the same id twice is a duplicate)',
    )
    .action(async (file: string, options: ReplayOptions) => {
      const { replayAction } = await import('../actions/replay-action.js');
      process.exitCode = await replayAction(file, options);
    });
}
