/**
 * One hanging git server can't starve the others (reliability plan §8.3
 * F30, issue 11 item 7: two pushes with a black-holed clone URL left an
 * unrelated repository's push without a run for over 198 s). The
 * black-holed server accepts connections and never says a word — git
 * waits out a TLS handshake for minutes (curl's connect limit), which its
 * low-speed limit does not cover. Deliveries of one repository take one
 * slot of the intake worker at a time; the server's silence is noticed
 * within the stall limit and the delivery fails with a reason.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTAKE_QUEUE, intakeJobId } from '../../../src/intake/intake-queue.js';
import { haveRedis } from '../../helpers/services.js';
import {
  KILN_YAML,
  pushPayload,
  startIntakeFixture,
  type IntakeFixture,
} from './intake-fixture.js';

describe.skipIf(!haveRedis())('a git server that never answers', () => {
  let fixture: IntakeFixture;
  let blackHole: Server;
  const sockets = new Set<Socket>();
  let port = 0;
  let connection: Redis;
  let queue: Queue;

  beforeAll(async () => {
    blackHole = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) =>
      blackHole.listen(0, '127.0.0.1', resolve),
    );
    const address = blackHole.address();
    port = typeof address === 'object' && address ? address.port : 0;
    // Two slots, as `kiln server` had: the two slow pushes took both.
    fixture = await startIntakeFixture({
      git: { fetchStallMs: 3_000 },
      intakeConcurrency: 2,
    });
    connection = new Redis(fixture.redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    queue = new Queue(INTAKE_QUEUE, {
      connection,
      prefix: fixture.keys.bullPrefix,
    });
    queue.on('error', () => undefined);
  });
  async function firstFailure(delivery: string): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const job = await queue.getJob(intakeJobId(delivery));
      if (job?.failedReason) return job.failedReason;
      if (Date.now() > deadline) throw new Error(`${delivery} never failed`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  afterAll(async () => {
    await queue?.close();
    connection?.disconnect();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    await fixture?.close();
  });

  it('holds up no other repository, and fails its own deliveries with a reason', async () => {
    const slow = Array.from({ length: 2 }, (_, i) => ({
      delivery: randomUUID(),
      payload: pushPayload({
        bareDir: `https://127.0.0.1:${port}/acme/slow.git`,
        repository: 'acme/slow',
        branch: 'main',
        after: String(i + 1).repeat(40),
      }),
    }));
    for (const { delivery, payload } of slow) {
      expect(
        (await fixture.post({ event: 'push', delivery, payload })).status,
      ).toBe(202);
    }
    const sha = fixture.push('main', { 'kiln.yaml': KILN_YAML }, 'unrelated');
    const unrelated = randomUUID();
    const started = Date.now();

    await fixture.post({
      event: 'push',
      delivery: unrelated,
      payload: pushPayload({
        bareDir: fixture.bareDir,
        branch: 'main',
        after: sha,
      }),
    });
    const outcome = await fixture.waitForOutcome(unrelated);

    expect(outcome.status).toBe('runs-created');
    expect(Date.now() - started).toBeLessThan(10_000);
    // Each attempt of theirs fails within the stall limit, with the reason
    // (retried with backoff, then recorded as failed for a redelivery).
    for (const { delivery } of slow) {
      const reason = await firstFailure(delivery);
      expect(reason).toMatch(
        /does not answer: 127\.0\.0\.1:\d+ did not complete a TLS handshake within 3 s/,
      );
    }
  }, 120_000);
});
