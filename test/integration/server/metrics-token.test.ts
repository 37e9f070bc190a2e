/**
 * `/metrics` closed by default (issue 11 item 9: it needed no token): on
 * the worker listener (the same router serves the server app), with no
 * setting a scrape is 403 saying how to open it; behind KILN_METRICS_TOKEN
 * a scrape without the token or with a wrong one is 401, with it 200, and
 * the token never shows in the answer; KILN_METRICS_PUBLIC=true opens it.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../../src/settings.js';
import { startWorkerListener } from '../../../src/server/start-worker-listener.js';
import { haveRedis } from '../../helpers/services.js';
import {
  startIntakeFixture,
  type IntakeFixture,
} from '../intake/intake-fixture.js';

const TOKEN = 'metrics-token-0123456789abcdef';

describe.skipIf(!haveRedis())('/metrics with KILN_METRICS_TOKEN', () => {
  let fixture: IntakeFixture;

  beforeAll(async () => {
    fixture = await startIntakeFixture({ worker: false });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  function listen(env: Record<string, string>) {
    return startWorkerListener({
      deps: {
        settings: readSettings({ KILN_DATA_DIR: '/tmp/unused', ...env }),
        logger: pino({ level: 'silent' }),
        redis: fixture.client,
        keys: fixture.keys,
        control: fixture.control,
        readinessChecks: [],
      },
      port: 0,
      host: '127.0.0.1',
    });
  }

  it('is closed with neither setting, and open to anyone with KILN_METRICS_PUBLIC=true', async () => {
    for (const [env, status] of [
      [{}, 403],
      [{ KILN_METRICS_PUBLIC: 'true' }, 200],
    ] as const) {
      const listener = await listen(env);
      try {
        const response = await fetch(
          `http://127.0.0.1:${listener.port}/metrics`,
        );
        const text = await response.text();

        expect(response.status).toBe(status);
        if (status === 403) {
          expect(text).toMatch(
            /set KILN_METRICS_TOKEN .* or KILN_METRICS_PUBLIC=true/,
          );
        } else {
          expect(text).toContain('# TYPE kiln_queue_jobs');
        }
      } finally {
        await listener.close();
      }
    }
  });

  it('wants the token as a bearer token', async () => {
    const listener = await startWorkerListener({
      deps: {
        settings: readSettings({
          KILN_DATA_DIR: '/tmp/unused',
          KILN_METRICS_TOKEN: TOKEN,
        }),
        logger: pino({ level: 'silent' }),
        redis: fixture.client,
        keys: fixture.keys,
        control: fixture.control,
        readinessChecks: [],
      },
      port: 0,
      host: '127.0.0.1',
    });
    const url = `http://127.0.0.1:${listener.port}/metrics`;
    const scrape = async (authorization?: string) => {
      const response = await fetch(url, {
        headers: authorization ? { authorization } : {},
      });
      return { status: response.status, text: await response.text() };
    };
    try {
      const none = await scrape();
      const wrong = await scrape('Bearer metrics-token-wrong');
      const right = await scrape(`Bearer ${TOKEN}`);

      expect(none.status).toBe(401);
      expect(none.text).toMatch(/KILN_METRICS_TOKEN is set/);
      expect(wrong.status).toBe(401);
      expect(right.status).toBe(200);
      expect(right.text).toContain('# TYPE');
      for (const answer of [none, wrong, right]) {
        expect(answer.text).not.toContain(TOKEN);
      }
    } finally {
      await listener.close();
    }
  });

  it('refuses a token too short to be one, and a token with public access', () => {
    expect(() => readSettings({ KILN_METRICS_TOKEN: 'short' })).toThrow(
      /KILN_METRICS_TOKEN: must be at least 16 characters/,
    );
    expect(() =>
      readSettings({ KILN_METRICS_TOKEN: TOKEN, KILN_METRICS_PUBLIC: 'true' }),
    ).toThrow(/both set: .* unset one/);
  });
});
