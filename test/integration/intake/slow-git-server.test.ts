/**
 * One hanging git server can't starve the others (reliability plan §8.3
 * F30, issue 11 item 7: two pushes with a black-holed clone URL left an
 * unrelated repository's push without a run for over 198 s). The
 * black-holed server accepts connections and never says a word — git
 * waits out a TLS handshake for minutes (curl's connect limit), which its
 * low-speed limit does not cover. Two guards, each tested alone: the
 * server's silence is noticed within the stall limit and the delivery
 * fails with a reason; and a repository takes one slot of the intake
 * worker at a time, so the others' deliveries go on meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { INTAKE_QUEUE, intakeJobId } from '../../../src/intake/intake-queue.js';
import { haveRedis } from '../../helpers/services.js';
import {
  KILN_YAML,
  pushPayload,
  startIntakeFixture,
  type FixtureOptions,
  type IntakeFixture,
} from './intake-fixture.js';

interface Setup {
  fixture: IntakeFixture;
  /** The black hole's port on 127.0.0.1. */
  port: number;
  /** The reason the delivery's job last failed, once it has. */
  failedReason(delivery: string): Promise<string | undefined>;
  close(): Promise<void>;
}

async function setUp(options: FixtureOptions): Promise<Setup> {
  const sockets = new Set<Socket>();
  const blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) =>
    blackHole.listen(0, '127.0.0.1', resolve),
  );
  const address = blackHole.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const fixture = await startIntakeFixture(options);
  const connection = new Redis(fixture.redis.url, {
    maxRetriesPerRequest: null,
  });
  connection.on('error', () => undefined);
  const queue = new Queue(INTAKE_QUEUE, {
    connection,
    prefix: fixture.keys.bullPrefix,
  });
  queue.on('error', () => undefined);
  return {
    fixture,
    port,
    async failedReason(delivery) {
      const job = await queue.getJob(intakeJobId(delivery));
      return job?.failedReason || undefined;
    },
    async close() {
      await queue.close();
      connection.disconnect();
      // Refused from now on, so a fetch still waiting ends at once.
      const closed = new Promise<void>((resolve) =>
        blackHole.close(() => resolve()),
      );
      for (const socket of sockets) socket.destroy();
      await closed;
      await fixture.close();
    },
  };
}

async function postSlowPushes(setup: Setup, count: number): Promise<string[]> {
  const deliveries: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const delivery = randomUUID();
    const answer = await setup.fixture.post({
      event: 'push',
      delivery,
      payload: pushPayload({
        bareDir: `https://127.0.0.1:${setup.port}/acme/slow.git`,
        repository: 'acme/slow',
        branch: 'main',
        after: String(i + 1).repeat(40),
      }),
    });
    expect(answer.status).toBe(202);
    deliveries.push(delivery);
  }
  return deliveries;
}

/** Posts a push of the fixture's own repository; resolves on its outcome. */
async function unrelatedPush(setup: Setup) {
  const { fixture } = setup;
  const sha = fixture.push('main', { 'kiln.yaml': KILN_YAML }, 'unrelated');
  const delivery = randomUUID();
  await fixture.post({
    event: 'push',
    delivery,
    payload: pushPayload({
      bareDir: fixture.bareDir,
      branch: 'main',
      after: sha,
    }),
  });
  return fixture.waitForOutcome(delivery);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(!haveRedis())('a git server that never answers', () => {
  it('fails its deliveries within the stall limit, with a reason naming the server', async () => {
    // Two slots, as `kiln server` had: the two slow pushes took both.
    const setup = await setUp({
      git: { fetchStallMs: 3_000 },
      intakeConcurrency: 2,
    });
    try {
      const slow = await postSlowPushes(setup, 2);
      const started = Date.now();

      const outcome = await unrelatedPush(setup);

      expect(outcome.status).toBe('runs-created');
      expect(Date.now() - started).toBeLessThan(10_000);
      // Each attempt of theirs fails within the stall limit, with the
      // reason (retried with backoff, then recorded as failed for a
      // redelivery).
      for (const delivery of slow) {
        const reason = await waitFor(delivery, () =>
          setup.failedReason(delivery),
        );
        expect(reason).toMatch(
          /^the git server of github\.com\/acme\/slow does not answer: 127\.0\.0\.1:\d+ did not complete a TLS handshake within 3 s;/,
        );
      }
    } finally {
      await setup.close();
    }
  }, 120_000);

  it('holds one slot while it hangs: other repositories go on meanwhile', async () => {
    // A stall limit far beyond the test: only fairness can let the
    // unrelated push through while three slow ones wait for two slots.
    const setup = await setUp({
      git: { fetchStallMs: 120_000 },
      intakeConcurrency: 2,
    });
    try {
      const slow = await postSlowPushes(setup, 3);
      const started = Date.now();

      const outcome = await unrelatedPush(setup);

      expect(outcome.status).toBe('runs-created');
      expect(Date.now() - started).toBeLessThan(10_000);
      // Still hanging, none failed: it was not the stall limit.
      for (const delivery of slow) {
        expect(await setup.failedReason(delivery)).toBeUndefined();
      }
    } finally {
      await setup.close();
    }
  }, 120_000);
});
