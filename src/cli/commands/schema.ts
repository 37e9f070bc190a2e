/** `kiln schema`: the JSON Schema of the configuration file format. */
import type { Command } from 'commander';

export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description(
      'print the JSON Schema (draft 2020-12) of kiln.yaml, for editors and the YAML language server',
    )
    .action(async () => {
      const { buildConfigJsonSchema } =
        await import('../../config/config-json-schema.js');
      process.stdout.write(
        `${JSON.stringify(buildConfigJsonSchema(), null, 2)}\n`,
      );
    });
}
