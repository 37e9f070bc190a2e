/**
 * `/metrics` and `/readyz` as documented (docs/operations.md), on the
 * server app and on the worker's own listener, against a real Redis.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../../src/settings.js';
import { startWorkerListener } from '../../../src/server/start-worker-listener.js';
import { createKilnMetrics } from '../../../src/telemetry/create-kiln-metrics.js';
import { haveRedis } from '../../helpers/services.js';
import {
  startIntakeFixture,
  type IntakeFixture,
} from '../intake/intake-fixture.js';

async function get(
  url: string,
): Promise<{ status: number; text: string; type: string }> {
  const response = await fetch(url);
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get('content-type') ?? '',
  };
}

/** The value of one sample line, e.g. `name{a="b"} 3`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((item) => item.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.skipIf(!haveRedis())('server /metrics', () => {
  let fixture: IntakeFixture;

  beforeAll(async () => {
    // No intake worker: a queued delivery stays waiting, so depth shows.
    fixture = await startIntakeFixture({
      worker: false,
      env: { KILN_METRICS_PUBLIC: 'true' },
    });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('answers in Prometheus text format with queue, delivery and webhook series', async () => {
    const before = await get(`${fixture.url}/metrics`);
    expect(before.status).toBe(200);
    expect(before.type).toContain('text/plain');
    expect(before.text).toContain('# TYPE kiln_queue_jobs gauge');
    expect(
      sample(
        before.text,
        'kiln_queue_jobs{queue="kiln-intake",state="waiting"}',
      ),
    ).toBe(0);

    const delivery = randomUUID();
    const posted = await fixture.post({
      event: 'ping',
      delivery,
      payload: { zen: 'x' },
    });
    expect(posted.status).toBe(202);
    const refused = await fixture.post({
      event: 'ping',
      payload: { zen: 'x' },
      secret: 'wrong',
      delivery: randomUUID(),
    });
    expect(refused.status).toBe(401);

    const after = await get(`${fixture.url}/metrics`);
    expect(sample(after.text, 'kiln_webhook_answers_total{status="202"}')).toBe(
      1,
    );
    expect(sample(after.text, 'kiln_webhook_answers_total{status="401"}')).toBe(
      1,
    );
    expect(
      sample(
        after.text,
        'kiln_queue_jobs{queue="kiln-intake",state="waiting"}',
      ),
    ).toBe(1);
    expect(
      sample(
        after.text,
        'kiln_queue_oldest_waiting_seconds{queue="kiln-intake"}',
      ),
    ).toBeGreaterThanOrEqual(0);
    expect(sample(after.text, 'kiln_deliveries_recent{status="queued"}')).toBe(
      1,
    );
    expect(
      sample(after.text, 'kiln_deliveries_recent{status="rejected"}'),
    ).toBe(1);
    expect(sample(after.text, 'kiln_runs_unfinished{status="running"}')).toBe(
      0,
    );
  });
});

describe.skipIf(!haveRedis())('worker listener', () => {
  let fixture: IntakeFixture;

  beforeAll(async () => {
    fixture = await startIntakeFixture({ worker: false });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('serves /healthz, /readyz (Redis and runtime) and /metrics, nothing else', async () => {
    const settings = readSettings({
      KILN_DATA_DIR: '/tmp/unused',
      KILN_REDIS_PREFIX: 'kt',
      KILN_METRICS_PUBLIC: 'true',
    });
    const metrics = createKilnMetrics({
      redis: fixture.client,
      keys: fixture.keys,
      processMetrics: false,
    });
    let runtimeUp = true;
    const listener = await startWorkerListener({
      deps: {
        settings,
        logger: pino({ level: 'silent' }),
        redis: fixture.client,
        keys: fixture.keys,
        control: fixture.control,
        metrics,
        readinessChecks: [{ name: 'runtime', check: async () => runtimeUp }],
      },
      port: 0,
      host: '127.0.0.1',
    });
    const base = `http://127.0.0.1:${listener.port}`;
    try {
      expect((await get(`${base}/healthz`)).status).toBe(200);
      const ready = await get(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.text)).toEqual({
        status: 'ready',
        checks: { redis: true, runtime: true },
      });
      runtimeUp = false;
      const notReady = await get(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(JSON.parse(notReady.text)).toMatchObject({
        checks: { runtime: false },
      });

      metrics.observeStepJob('completed', 12);
      metrics.observeStepJob('failed', 2);
      const text = (await get(`${base}/metrics`)).text;
      expect(sample(text, 'kiln_step_jobs_total{outcome="completed"}')).toBe(1);
      expect(
        sample(
          text,
          'kiln_step_job_duration_seconds_bucket{le="15",outcome="completed"}',
        ),
      ).toBe(1);
      expect(
        sample(
          text,
          'kiln_step_job_duration_seconds_bucket{le="5",outcome="completed"}',
        ),
      ).toBe(0);
      expect((await get(`${base}/api/runs`)).status).toBe(404);

      await fixture.redis.stop();
      const down = await get(`${base}/readyz`);
      expect(down.status).toBe(503);
      expect(JSON.parse(down.text)).toMatchObject({ checks: { redis: false } });
      const scrape = await get(`${base}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.text).toContain('kiln_scrape_errors_total');
    } finally {
      await listener.close();
      await metrics.close();
      await fixture.redis.restart();
    }
  });
});
