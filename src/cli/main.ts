/**
 * The `kiln` command line. Each command lives in its own file under
 * commands/ and registers itself on the program here.
 */
import { Command } from 'commander';
import { registerControlCommands } from './commands/control.js';
import { registerEventsCommand } from './commands/events.js';
import { registerExecutionCommands } from './commands/executions.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerRemoteCommands } from './commands/remote.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerRunCommand } from './commands/run.js';
import { registerSchedulesCommand } from './commands/schedules.js';
import { registerSchemaCommand } from './commands/schema.js';
import { registerSecretCommands } from './commands/secret.js';
import { registerServiceCommands } from './commands/service.js';
import { registerTokenCommands } from './commands/token.js';
import { registerValidateCommand } from './commands/validate.js';
import { readPackageVersion } from './read-package-version.js';

const program = new Command('kiln')
  .description(
    'git push runs your ML pipelines in containers, versions every result and shows the metrics where the code is reviewed',
  )
  .version(readPackageVersion(), '-V, --version')
  .showHelpAfterError();

// Commands register here, one line each (keep alphabetical).
registerControlCommands(program);
registerEventsCommand(program);
registerExecutionCommands(program);
registerPlanCommand(program);
registerRemoteCommands(program);
registerReplayCommand(program);
registerRunCommand(program);
registerSchedulesCommand(program);
registerSchemaCommand(program);
registerSecretCommands(program);
registerServiceCommands(program);
registerTokenCommands(program);
registerValidateCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Expected failures (bad settings, a dirty work tree, Redis missing…)
  // carry a message that says how to fix them: print it, not a stack.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`kiln: ${message}\n`);
  if (process.env.KILN_DEBUG && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = 1;
}
