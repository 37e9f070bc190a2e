/**
 * Memory an unauthenticated client can make kiln hold (issue 11 item 6:
 * 40 concurrent 24 MB posts with a junk signature took the server from
 * 130 MB to 720 MB; one 24 MB delivery cost 64.6 MB of Redis for 4 days).
 * Bodies are admitted against an in-flight budget before a byte is read —
 * past it the answer is 503 at once — and a small delivery still gets in
 * during a flood of large ones; what is queued and kept of a delivery is
 * only the fields kiln reads.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTAKE_QUEUE } from '../../../src/intake/intake-queue.js';
import { haveRedis } from '../../helpers/services.js';
import { startIntakeFixture, type IntakeFixture } from './intake-fixture.js';

const MiB = 1024 * 1024;
const MAX_BYTES = 25 * MiB;
const BUDGET = 60 * MiB;

describe.skipIf(!haveRedis())('webhook memory bounds', () => {
  let fixture: IntakeFixture;
  let connection: Redis;
  let queue: Queue;

  beforeAll(async () => {
    fixture = await startIntakeFixture({
      worker: false,
      env: {
        KILN_WEBHOOK_MAX_BYTES: String(MAX_BYTES),
        KILN_WEBHOOK_INFLIGHT_BYTES: String(BUDGET),
        KILN_WEBHOOK_TIMEOUT_MS: '30000',
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

  /** A 24 MB post with a junk signature that sends 1 MB and holds. */
  function holdLargePost(): {
    request: ClientRequest;
    answered: Promise<number>;
  } {
    const request = httpRequest(`${fixture.url}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(24 * MiB),
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${'ab'.repeat(32)}`,
      },
    });
    const answered = new Promise<number>((resolve) => {
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', () => resolve(0));
    });
    request.write(Buffer.alloc(MiB, 0x20));
    return { request, answered };
  }

  it('holds at most its budget of bodies; past it 503 at once, and a small delivery still gets in', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const posts = Array.from({ length: 40 }, () => holdLargePost());
    const refused = await Promise.race([
      Promise.all(posts.slice(2).map((post) => post.answered)),
      new Promise<'held'>((resolve) =>
        setTimeout(() => resolve('held'), 20_000),
      ),
    ]);

    const small = await fixture.post({
      event: 'ping',
      delivery: randomUUID(),
      payload: { zen: 'small', hook_id: 1 },
    });
    const heldBytes = process.memoryUsage().arrayBuffers - before;
    for (const post of posts.slice(0, 2)) post.request.destroy();

    // 60 MB, a sixth kept for small bodies: two 24 MB bodies fit.
    expect(refused).toEqual(Array.from({ length: 38 }, () => 503));
    expect(small.status).toBe(202);
    expect(heldBytes).toBeLessThan(BUDGET + 20 * MiB);
  }, 60_000);

  it('queues and keeps only the fields kiln reads of a 24 MB push', async () => {
    const push = (
      examples as unknown as Array<{ name: string; examples: unknown[] }>
    ).find((group) => group.name === 'push')?.examples[0] as Record<
      string,
      unknown
    >;
    const payload = {
      ...push,
      commits: Array.from({ length: 19_000 }, (_, i) => ({
        id: String(i).padStart(40, '0'),
        message: 'x'.repeat(1_200),
      })),
    };
    const delivery = randomUUID();

    const answer = await fixture.post({ event: 'push', delivery, payload });

    expect(answer.status).toBe(202);
    const job = await queue.getJob(`d-${delivery}`);
    const kept = (job?.data as { payload: string }).payload;
    expect(kept.length).toBeLessThan(2_000);
    expect(JSON.parse(kept)).toMatchObject({
      ref: push.ref,
      after: push.after,
    });
    const bytes = await connection.memory(
      'USAGE',
      `${fixture.keys.bullPrefix}:${INTAKE_QUEUE}:d-${delivery}`,
    );
    expect(bytes).toBeLessThan(8_192);
  }, 60_000);
});
