/**
 * `kiln replay` as a user runs it (the CLI in a child process) against a
 * real kiln webhook endpoint: recorded deliveries are signed and queued,
 * a wrong secret is refused, and bad files are explained.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDelivery } from '../../../src/cli/actions/replay-action.js';
import { haveRedis } from '../../helpers/services.js';
import {
  SECRET,
  startIntakeFixture,
  type IntakeFixture,
} from '../intake/intake-fixture.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const deliveries = join(root, 'webhooks', 'deliveries');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function kiln(
  args: string[],
  env: Record<string, string>,
): Promise<Result> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'bin', 'kiln.js'), ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

describe('parseDelivery', () => {
  it('reads a recorded delivery and keeps the payload as the body', () => {
    const parsed = parseDelivery(
      JSON.stringify({ event: 'push', payload: { ref: 'refs/heads/main' } }),
      undefined,
    );
    expect(parsed).toEqual({
      event: 'push',
      body: '{"ref":"refs/heads/main"}',
      deliveryId: undefined,
    });
  });

  it('needs --event for a raw payload, and checks the event name', () => {
    expect(() => parseDelivery('{"ref":"x"}', undefined)).toThrow(/--event/);
    expect(parseDelivery('{"ref":"x"}', 'push').body).toBe('{"ref":"x"}');
    expect(() => parseDelivery('{}', 'push; rm -rf /')).toThrow(
      /not an event name/,
    );
    expect(() => parseDelivery('[1]', 'push')).toThrow(/not a JSON object/);
    expect(() => parseDelivery('{', 'push')).toThrow(/not valid JSON/);
  });
});

describe.skipIf(!haveRedis())('kiln replay → a kiln webhook endpoint', () => {
  let fixture: IntakeFixture;
  let dir: string;

  beforeAll(async () => {
    // No intake worker: what the endpoint queued stays as it is.
    fixture = await startIntakeFixture({ worker: false });
    dir = mkdtempSync(join(tmpdir(), 'kiln-replay-'));
  });
  afterAll(async () => {
    await fixture?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const url = () => `${fixture.url}/webhooks/github`;

  it('signs and posts each recorded delivery; kiln queues it', async () => {
    for (const file of ['push-main.json', 'pull-request-opened.json']) {
      const result = await kiln(
        ['replay', join(deliveries, file), '--url', url()],
        { KILN_WEBHOOK_SECRET: SECRET },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const id = /delivery ([0-9a-f-]{36})/.exec(result.stdout)?.[1];
      expect(result.stdout).toContain('HTTP 202');
      const record = await fixture.deliveries.getDelivery(id ?? '');
      expect(record).toMatchObject({ status: 'queued' });
    }
  });

  it('the same --delivery twice is a duplicate', async () => {
    const args = [
      'replay',
      join(deliveries, 'push-branch.json'),
      '--url',
      url(),
      '--delivery',
      'replay-twice-1',
    ];
    const env = { KILN_WEBHOOK_SECRET: SECRET };
    expect((await kiln(args, env)).stdout).toContain('HTTP 202');
    const again = await kiln(args, env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"status":"duplicate"');
  });

  it('a wrong secret is refused by kiln and exits 1', async () => {
    const result = await kiln(
      ['replay', join(deliveries, 'push-main.json'), '--url', url()],
      { KILN_WEBHOOK_SECRET: 'not-the-secret' },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('HTTP 401');
  });

  it('a raw payload with --event is sent as is', async () => {
    const file = join(dir, 'ping.json');
    writeFileSync(file, JSON.stringify({ zen: 'Design for failure.' }));
    const result = await kiln(
      ['replay', file, '--event', 'ping', '--url', url()],
      {
        KILN_WEBHOOK_SECRET: SECRET,
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ping delivery /);
  });

  it('explains what is missing instead of sending', async () => {
    const noSecret = await kiln(
      ['replay', join(deliveries, 'push-main.json'), '--url', url()],
      { KILN_WEBHOOK_SECRET: '' },
    );
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain('KILN_WEBHOOK_SECRET is not set');
    const missing = await kiln(['replay', join(dir, 'nope.json')], {
      KILN_WEBHOOK_SECRET: SECRET,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("can't read");
    const unreachable = await kiln(
      [
        'replay',
        join(deliveries, 'push-main.json'),
        '--url',
        'http://127.0.0.1:1/webhooks/github',
      ],
      { KILN_WEBHOOK_SECRET: SECRET },
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('is kiln running there?');
  });
});
