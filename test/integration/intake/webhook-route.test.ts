/**
 * The HTTP side of webhook intake (reliability-plan §8.2 rows 1–8, 10, 11,
 * and Redis outages): what is answered and what is queued. No intake
 * worker runs here, so queued jobs stay countable.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTAKE_QUEUE } from '../../../src/intake/intake-queue.js';
import { haveRedis } from '../../helpers/services.js';
import {
  PREVIOUS_SECRET,
  signBytes,
  startIntakeFixture,
  type IntakeFixture,
} from './intake-fixture.js';

const MAX_BYTES = 1024 * 1024;

describe.skipIf(!haveRedis())('POST /webhooks/github', () => {
  let fixture: IntakeFixture;
  let connection: Redis;
  let queue: Queue;

  beforeAll(async () => {
    fixture = await startIntakeFixture({
      worker: false,
      env: {
        KILN_WEBHOOK_MAX_BYTES: String(MAX_BYTES),
        KILN_WEBHOOK_TIMEOUT_MS: '500',
      },
    });
    connection = new Redis(fixture.redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    queue = new Queue(INTAKE_QUEUE, {
      connection,
      prefix: fixture.keys.bullPrefix,
    });
    queue.on('error', () => undefined);
  });
  afterAll(async () => {
    await queue?.close();
    connection?.disconnect();
    await fixture?.close();
  });

  async function jobExists(delivery: string): Promise<boolean> {
    return (await queue.getJob(`d-${delivery}`)) !== undefined;
  }

  const ping = { zen: 'Keep it logically awesome.', hook_id: 1 };

  it('queues a signed delivery and answers 202', async () => {
    const delivery = randomUUID();
    const response = await fixture.post({
      event: 'ping',
      delivery,
      payload: ping,
    });
    expect(response).toEqual({
      status: 202,
      body: { status: 'queued', delivery },
    });
    expect(await jobExists(delivery)).toBe(true);
    const record = await fixture.deliveries.getDelivery(delivery);
    expect(record?.status).toBe('queued');
  });

  it('row 1: refuses a delivery without a signature (401, not queued, recorded)', async () => {
    const delivery = randomUUID();
    const response = await fixture.post({
      event: 'ping',
      delivery,
      payload: ping,
      headers: { 'x-hub-signature-256': undefined },
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      error: expect.stringContaining('X-Hub-Signature-256'),
    });
    expect(await jobExists(delivery)).toBe(false);
    const recent = await fixture.deliveries.listDeliveries({ limit: 20 });
    const record = recent.find((item) => item.deliveryId === delivery);
    expect(record).toMatchObject({ status: 'rejected', httpStatus: 401 });
    // An unsigned request can't write over the record of a real delivery.
    expect(record?.id).not.toBe(delivery);
  });

  it('row 2: refuses a wrong signature of the correct length', async () => {
    const delivery = randomUUID();
    const response = await fixture.post({
      event: 'ping',
      delivery,
      payload: ping,
      headers: { 'x-hub-signature-256': `sha256=${'ab'.repeat(32)}` },
    });
    expect(response.status).toBe(401);
    expect(await jobExists(delivery)).toBe(false);
  });

  it.each([
    ['wrong length', 'sha256=abcd'],
    ['non-hex', `sha256=${'zz'.repeat(32)}`],
    ['sha1', `sha1=${'ab'.repeat(20)}`],
    ['upper-case hex', `sha256=${'AB'.repeat(32)}`],
    ['empty', ''],
    ['duplicated', `sha256=${'ab'.repeat(32)}, sha256=${'ab'.repeat(32)}`],
  ])('row 3: a %s signature is a 401, never a 500', async (_name, header) => {
    const delivery = randomUUID();
    const response = await fixture.post({
      event: 'ping',
      delivery,
      payload: ping,
      headers: { 'x-hub-signature-256': header },
    });
    expect(response.status).toBe(401);
    expect(await jobExists(delivery)).toBe(false);
  });

  it('row 4: the signature covers the raw bytes, not re-serialised JSON', async () => {
    const delivery = randomUUID();
    const raw = '{"zen":  "spaced",   "hook_id": 1}';
    const response = await fixture.post({
      event: 'ping',
      delivery,
      body: JSON.stringify(JSON.parse(raw)),
      headers: {
        'x-hub-signature-256': signBytes(
          'test-secret-current',
          Buffer.from(raw),
        ),
      },
    });
    expect(response.status).toBe(401);
    const exact = await fixture.post({ event: 'ping', delivery, body: raw });
    expect(exact.status).toBe(202);
  });

  it('row 5: a declared 26 MB body is refused with 413 before it is read', async () => {
    const delivery = randomUUID();
    const result = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(`${fixture.url}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': String(26 * 1024 * 1024),
            'x-github-event': 'ping',
            'x-github-delivery': delivery,
            'x-hub-signature-256': `sha256=${'ab'.repeat(32)}`,
          },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        // Only the headers and a few bytes: the answer can't depend on the rest.
        req.write('{"zen":');
      },
    );
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({
      error: expect.stringContaining('larger than'),
    });
    expect(await jobExists(delivery)).toBe(false);
  });

  it('row 5: a chunked body streamed without end is cut at the cap (memory flat)', async () => {
    const delivery = randomUUID();
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const limit = 1024 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    const outcome = await new Promise<{ status: number; sent: number }>(
      (resolve) => {
        let sent = 0;
        let status = 0;
        let stopped = false;
        const req = httpRequest(`${fixture.url}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
            'x-github-event': 'ping',
            'x-github-delivery': delivery,
            'x-hub-signature-256': `sha256=${'ab'.repeat(32)}`,
          },
        });
        const finish = () => {
          if (stopped) return;
          stopped = true;
          req.destroy();
          resolve({ status, sent });
        };
        req.on('response', (res) => {
          status = res.statusCode ?? 0;
          res.resume();
          res.on('end', finish);
        });
        req.on('error', finish);
        req.on('close', finish);
        const pump = () => {
          while (!stopped && sent < limit) {
            sent += chunk.length;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          if (!stopped) req.end();
        };
        pump();
      },
    );
    expect(outcome.status).toBe(413);
    expect(outcome.sent).toBeLessThan(limit);
    // The server kept at most the cap, never the stream.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(
      200 * 1024 * 1024,
    );
    expect(await jobExists(delivery)).toBe(false);
  });

  it('row 6: a client trickling its body is cut by the request timeout; others are served meanwhile', async () => {
    const delivery = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<{ status: number; closed: boolean }>((resolve) => {
      let status = 0;
      const req = httpRequest(`${fixture.url}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': '1000',
          'x-github-event': 'ping',
          'x-github-delivery': delivery,
          'x-hub-signature-256': `sha256=${'ab'.repeat(32)}`,
        },
      });
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        res.resume();
      });
      const done = () => {
        clearInterval(timer);
        resolve({ status, closed: true });
      };
      req.on('close', done);
      req.on('error', done);
      req.write('{');
      timer = setInterval(() => req.write(' '), 100);
    });
    const other = await fixture.post({
      event: 'ping',
      delivery: randomUUID(),
      payload: ping,
    });
    expect(other.status).toBe(202);
    const result = await slow;
    expect(result).toEqual({ status: 408, closed: true });
    expect(await jobExists(delivery)).toBe(false);
  });

  it('row 7: a form-encoded delivery is refused with 415', async () => {
    const delivery = randomUUID();
    const response = await fixture.post({
      event: 'ping',
      delivery,
      body: 'payload=%7B%7D',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({
      error: expect.stringContaining('application/json'),
    });
    expect(await jobExists(delivery)).toBe(false);
  });

  it.each([
    ['invalid JSON', Buffer.from('{"zen": ')],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['a leading BOM', Buffer.from('\uFEFF{"zen":"x"}')],
    ['a JSON array', Buffer.from('[1,2]')],
  ])(
    'row 8: a signed body with %s is a 400 recorded under its GUID',
    async (_name, body) => {
      const delivery = randomUUID();
      const response = await fixture.post({ event: 'ping', delivery, body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: expect.any(String) });
      expect(await jobExists(delivery)).toBe(false);
      expect(await fixture.deliveries.getDelivery(delivery)).toMatchObject({
        status: 'rejected',
        httpStatus: 400,
      });
    },
  );

  it('refuses a signed delivery without a usable GUID (400)', async () => {
    const missing = await fixture.post({ event: 'ping', payload: ping });
    expect(missing.status).toBe(400);
    const colon = await fixture.post({
      event: 'ping',
      delivery: 'a:b',
      payload: ping,
    });
    expect(colon.status).toBe(400);
  });

  it('row 10: a redelivery answers 200 duplicate; 5 copies at once queue one job', async () => {
    const delivery = randomUUID();
    const first = await fixture.post({
      event: 'ping',
      delivery,
      payload: ping,
    });
    expect(first.status).toBe(202);
    const again = await fixture.post({
      event: 'ping',
      delivery,
      payload: ping,
    });
    expect(again).toEqual({
      status: 200,
      body: { status: 'duplicate', delivery },
    });
    expect((await fixture.deliveries.getDelivery(delivery))?.duplicates).toBe(
      1,
    );

    const burst = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        fixture.post({ event: 'ping', delivery: burst, payload: ping }),
      ),
    );
    for (const answer of answers) expect([200, 202]).toContain(answer.status);
    expect(
      answers.filter((answer) => answer.status === 202).length,
    ).toBeGreaterThanOrEqual(1);
    const jobs = await queue.getJobs([
      'waiting',
      'active',
      'completed',
      'failed',
    ]);
    expect(jobs.filter((job) => job.data.deliveryId === burst)).toHaveLength(1);
    // The once-only ledger outlives GitHub's 3-day redelivery window.
    expect(await connection.ttl(`kt:delivery:${burst}`)).toBeGreaterThan(
      3 * 24 * 3600,
    );
  });

  it('queues again when an earlier copy claimed the delivery but never confirmed the enqueue', async () => {
    const delivery = randomUUID();
    // As left by a process that died between the claim and the enqueue.
    await connection.set(`kt:delivery:${delivery}`, 'received', 'EX', 3600);
    const response = await fixture.post({
      event: 'ping',
      delivery,
      payload: ping,
    });
    expect(response.status).toBe(202);
    expect(await jobExists(delivery)).toBe(true);
    expect(await connection.get(`kt:delivery:${delivery}`)).toBe('queued');
  });

  it('row 11: accepts the previous secret during rotation and refuses others', async () => {
    const accepted = await fixture.post({
      event: 'ping',
      delivery: randomUUID(),
      payload: ping,
      secret: PREVIOUS_SECRET,
    });
    expect(accepted.status).toBe(202);
    const refused = await fixture.post({
      event: 'ping',
      delivery: randomUUID(),
      payload: ping,
      secret: 'some-other-secret',
    });
    expect(refused.status).toBe(401);
  });

  it('answers 503 while Redis is down, and 202 again once it is back', async () => {
    await fixture.redis.stop();
    try {
      const down = await fixture.post({
        event: 'ping',
        delivery: randomUUID(),
        payload: ping,
      });
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        error: expect.stringContaining('Redis'),
      });
    } finally {
      await fixture.redis.restart();
    }
    // The clients reconnect on their own; the first tries may still fail.
    const delivery = randomUUID();
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 202; attempt += 1) {
      const response = await fixture.post({
        event: 'ping',
        delivery,
        payload: ping,
      });
      status = response.status;
      expect([202, 503]).toContain(status);
      if (status !== 202)
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(202);
    expect(await jobExists(delivery)).toBe(true);
  });
});
