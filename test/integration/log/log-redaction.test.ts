/**
 * kiln's logger as a process uses it (JSON lines on stderr): tokens and
 * secrets are redacted wherever the documented paths put them, and child
 * loggers keep the run and execution ids on every line.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');

const script = `
import { createLogger } from './src/log.ts';
const logger = createLogger({ level: 'info' });
logger.info({ req: { headers: { authorization: 'token ghp_SECRET1', 'x-hub-signature-256': 'sha256=SECRET2' } } }, 'request');
logger.info({ headers: { authorization: 'Bearer SECRET3' } }, 'call');
logger.info({ settings: { githubToken: 'SECRET4', webhookSecret: 'SECRET5', port: 8080 } }, 'settings');
logger.info({ token: 'SECRET6', github: { token: 'SECRET7' } }, 'tokens');
logger.info({ github: { auth: { token: 'SECRET8' }, app: { installation: { privateKey: 'SECRET9', Authorization: 'SECRET10' } } }, tries: [{ password: 'SECRET11' }], count: 3 }, 'nested');
logger.child({ runId: 'run-1', node: 'train' }).info({ executionId: 'run-1-1-1' }, 'step');
logger.flush?.();
`;

async function logLines(): Promise<Array<Record<string, unknown>>> {
  const { stderr } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: root, timeout: 60_000 },
  );
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('log lines', () => {
  it('redact tokens, secrets, authorization headers and signatures', async () => {
    const lines = await logLines();
    const text = JSON.stringify(lines);
    expect(lines).toHaveLength(6);
    for (let i = 1; i <= 11; i += 1) {
      expect(text).not.toContain(`SECRET${i}"`);
    }
    expect(lines[0]).toMatchObject({
      req: {
        headers: {
          authorization: '[redacted]',
          'x-hub-signature-256': '[redacted]',
        },
      },
    });
    expect(lines[1]).toMatchObject({
      headers: { authorization: '[redacted]' },
    });
    // Redaction is by field: other fields stay readable.
    expect(lines[2]).toMatchObject({
      settings: { githubToken: '[redacted]', port: 8080 },
    });
    // At any depth (issue 11 item 8: two levels down leaked).
    expect(lines[4]).toMatchObject({
      github: {
        auth: { token: '[redacted]' },
        app: {
          installation: {
            privateKey: '[redacted]',
            Authorization: '[redacted]',
          },
        },
      },
      tries: [{ password: '[redacted]' }],
      count: 3,
      msg: 'nested',
    });
  });

  it('keep run and execution ids on lines of a child logger', async () => {
    const lines = await logLines();
    expect(lines.at(-1)).toMatchObject({
      name: 'kiln',
      runId: 'run-1',
      node: 'train',
      executionId: 'run-1-1-1',
      msg: 'step',
    });
  });
});
