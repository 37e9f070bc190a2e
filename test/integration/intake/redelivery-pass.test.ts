/**
 * The redeliverer's pass against a repository webhook (token auth,
 * `KILN_GITHUB_REPO_HOOKS`): GitHub's pages followed by cursor, the limit
 * per pass with the checkpoint held for what is left, at most one ask per
 * event, kiln's ledger consulted, and GitHub's errors. A real redis-server;
 * the GitHub stand-in delivers to a port nothing listens on, so every
 * attempt (redeliveries too) fails.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
import {
  createHookDeliverySources,
  type HookDeliverySource,
} from '../../../src/forge/github/create-hook-delivery-sources.js';
import {
  claimDelivery,
  confirmQueued,
} from '../../../src/intake/delivery-ledger.js';
import { redeliverFailedDeliveries } from '../../../src/intake/redeliver-failed-deliveries.js';
import { startRedeliverer } from '../../../src/intake/start-redeliverer.js';
import {
  createRedisKeys,
  type RedisKeys,
} from '../../../src/redis/redis-keys.js';
import {
  startGithubStandIn,
  type GithubStandIn,
  type HookAttempt,
} from '../../helpers/github-stand-in.js';
import {
  freePort,
  startTestRedis,
  type TestRedis,
} from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

const TOKEN = 'ghp_redeliver';
const HOOK = 'acme/models:123';

describe.skipIf(!haveRedis())(
  'a redelivery pass over a repository webhook',
  () => {
    let redis: TestRedis;
    let client: Redis;
    let keys: RedisKeys;
    let stand: GithubStandIn;
    let source: HookDeliverySource;
    /** A second webhook, for the checkpoint test's own timeline. */
    let dataSource: HookDeliverySource;
    const logger = pino({ level: 'silent' });

    beforeAll(async () => {
      redis = await startTestRedis();
      client = new Redis(redis.url);
      keys = createRedisKeys('kp');
      const deadPort = await freePort();
      stand = await startGithubStandIn({
        tokens: [TOKEN],
        // The asks of several passes within a minute; one test limits them.
        contentPerMinute: 10_000,
        webhook: {
          url: `http://127.0.0.1:${deadPort}/webhooks/github`,
          secret: 's',
          repoHooks: { 'acme/models': 123, 'acme/data': 456 },
        },
      });
      const github = createGithubClient({
        settings: { githubApiUrl: stand.url, githubToken: TOKEN },
        logger,
        retries: 0,
        minWriteIntervalMs: 0,
      });
      if (!github) throw new Error('no GitHub client');
      const sources = createHookDeliverySources({
        github,
        repoHooks: [HOOK, 'acme/data:456'],
      });
      expect(sources.map((item) => item.name)).toEqual([
        `repo:${HOOK}`,
        'repo:acme/data:456',
      ]);
      source = sources[0] as HookDeliverySource;
      dataSource = sources[1] as HookDeliverySource;
    });
    afterAll(async () => {
      client?.disconnect();
      await stand?.close();
      await redis?.close();
    });

    function pass(maxRedeliveries: number) {
      return redeliverFailedDeliveries(
        { redis: client, keys, sources: [source], logger },
        { lookbackMs: 3_600_000, maxRedeliveries, askIntervalMs: 0 },
      ).then((summaries) => summaries[0]);
    }

    function askedIds(): number[] {
      return stand.requests
        .filter((request) => request.path.endsWith('/attempts'))
        .filter((request) => (request.status ?? 0) === 202)
        .map((request) => Number(request.path.split('/').at(-2)));
    }

    it('asks for each failed event once, oldest first, 100 per pass across pages, and skips what kiln has', async () => {
      const attempts: HookAttempt[] = [];
      for (let index = 0; index < 152; index += 1) {
        attempts.push(
          await stand.deliver({
            event: 'push',
            payload: { ref: `refs/heads/b${index}` },
            hook: `repo:${HOOK}`,
          }),
        );
      }
      expect(attempts.every((item) => item.status_code === 0)).toBe(true);
      // kiln queued the first one although GitHub logged a failure; the
      // second was claimed but its enqueue never confirmed (a crash).
      const [queued, unconfirmed] = attempts as [HookAttempt, HookAttempt];
      await claimDelivery(client, keys, queued.guid);
      await confirmQueued(client, keys, queued.guid);
      await claimDelivery(client, keys, unconfirmed.guid);

      const first = await pass(100);

      expect(first).toMatchObject({
        listed: 152,
        failed: 152,
        recorded: 1,
        asked: 100,
        deferred: 51,
        complete: true,
      });
      expect(askedIds()).toEqual(attempts.slice(1, 101).map((item) => item.id));
      // The listing took two pages, the second by GitHub's cursor.
      const lists = stand.requests.filter((request) =>
        request.path.endsWith('/deliveries'),
      );
      expect(lists.map((request) => request.query.cursor)).toEqual([
        undefined,
        `v1_${attempts[52]?.id}`,
      ]);
      await stand.deliveriesSettled();

      const second = await pass(100);

      expect(second).toMatchObject({
        recorded: 1,
        alreadyAsked: 100,
        asked: 51,
        deferred: 0,
      });
      expect(askedIds()).toEqual(attempts.slice(1).map((item) => item.id));
      await stand.deliveriesSettled();

      // The redeliveries failed too (nothing listens): still not asked again.
      const third = await pass(100);

      expect(third).toMatchObject({ asked: 0, alreadyAsked: 151, recorded: 1 });
      expect(askedIds()).toHaveLength(151);
      stand.assertNoInvalidRequests();
    });

    it('tries again next pass when GitHub errs (5xx), never when it refuses (4xx)', async () => {
      const erring = await stand.deliver({
        event: 'push',
        payload: { ref: 'refs/heads/erring' },
        hook: `repo:${HOOK}`,
      });
      stand.fail({ kind: 'server-error', method: 'POST', times: 1 });

      const first = await pass(100);

      expect(first).toMatchObject({ asked: 0, deferred: 1 });
      const second = await pass(100);
      expect(second).toMatchObject({ asked: 1, deferred: 0 });
      expect(askedIds().at(-1)).toBe(erring.id);

      stand.fail({ kind: 'unauthorized', method: 'POST', times: 1 });
      const refusedOne = await stand.deliver({
        event: 'push',
        payload: { ref: 'refs/heads/refused' },
        hook: `repo:${HOOK}`,
      });
      await stand.deliveriesSettled();
      const third = await pass(100);
      expect(third).toMatchObject({ asked: 0, refused: 1 });
      const fourth = await pass(100);
      expect(fourth).toMatchObject({ asked: 0, refused: 0 });
      expect(askedIds()).not.toContain(refusedOne.id);
    });

    it('stops asking at a rate limit and asks for the rest next pass', async () => {
      const waiting: HookAttempt[] = [];
      for (const ref of ['limited-1', 'limited-2', 'limited-3']) {
        waiting.push(
          await stand.deliver({
            event: 'push',
            payload: { ref: `refs/heads/${ref}` },
            hook: `repo:${HOOK}`,
          }),
        );
      }
      stand.fail({
        kind: 'secondary-rate-limit',
        method: 'POST',
        retryAfter: 1,
        times: 1,
      });

      const first = await pass(100);

      expect(first).toMatchObject({ asked: 0, deferred: 3, refused: 0 });
      const second = await pass(100);
      expect(second).toMatchObject({ asked: 3, deferred: 0 });
      expect(askedIds().slice(-3)).toEqual(waiting.map((item) => item.id));
    });

    it('two servers: one pass at a time; a stopping server asks for nothing more and the other asks for the rest', async () => {
      const waiting: HookAttempt[] = [];
      for (const ref of ['two-1', 'two-2', 'two-3']) {
        waiting.push(
          await stand.deliver({
            event: 'push',
            payload: { ref: `refs/heads/${ref}` },
            hook: `repo:${HOOK}`,
          }),
        );
      }
      const before = askedIds().length;
      const server = (askIntervalMs: number) =>
        startRedeliverer({
          redis: client,
          keys,
          sources: [source],
          logger,
          intervalMs: 3_600_000,
          lookbackMs: 3_600_000,
          maxRedeliveries: 100,
          askIntervalMs,
        });

      const first = server(2_000);
      const deadline = Date.now() + 10_000;
      while (askedIds().length === before) {
        if (Date.now() > deadline)
          throw new Error('the first pass asked nothing');
        await sleep(10);
      }
      const second = server(0);
      expect(await second.runPass()).toBeNull();
      const stopped = first.runPass();
      await first.close();

      expect((await stopped)?.[0]).toMatchObject({ asked: 1, deferred: 2 });
      const rest = await second.runPass();
      expect(rest?.[0]).toMatchObject({ asked: 2, deferred: 0 });
      expect(askedIds().slice(before)).toEqual(waiting.map((item) => item.id));
      await second.close();
    });

    it('keeps a checkpoint: the first pass looks back the lookback only, later ones to where the last got, held at what was left', async () => {
      const hook = 'repo:acme/data:456';
      const now = Date.now();
      const minutesAgo = (minutes: number) => new Date(now - minutes * 60_000);
      const deliverAt = (ref: string, at: Date) =>
        stand.deliver({ event: 'push', payload: { ref }, hook, at });
      const tooOld = await deliverAt('too-old', minutesAgo(120));
      const e1 = await deliverAt('e1', minutesAgo(30));
      const e2 = await deliverAt('e2', minutesAgo(20));
      const e3 = await deliverAt('e3', minutesAgo(0));
      const dataPass = () =>
        redeliverFailedDeliveries(
          { redis: client, keys, sources: [dataSource], logger },
          { lookbackMs: 3_600_000, maxRedeliveries: 1, askIntervalMs: 0 },
        ).then((summaries) => summaries[0]);
      const checkpoint = async () =>
        Number(await client.hget(keys.redeliverCheckpoints, dataSource.name));
      const time = (attempt: HookAttempt) => Date.parse(attempt.delivered_at);
      const newest = () =>
        Math.max(
          ...stand.hookAttempts
            .filter((item) => item.hook === hook && item.status !== 'pending')
            .map(time),
        );

      const first = await dataPass();

      // An hour back: not the attempt of two hours ago.
      expect(first).toMatchObject({
        listed: 3,
        failed: 3,
        asked: 1,
        deferred: 2,
      });
      expect(askedIds().at(-1)).toBe(e1.id);
      // Held at e2, the oldest left, not at e3 less the overlap.
      expect(await checkpoint()).toBe(time(e2));
      await stand.deliveriesSettled();

      const second = await dataPass();

      // Listed back to e2: e2, e3 and e1's redelivery (failed too, not
      // asked again), not e1's first attempt.
      expect(second).toMatchObject({
        listed: 3,
        failed: 3,
        alreadyAsked: 1,
        asked: 1,
        deferred: 1,
      });
      expect(askedIds().at(-1)).toBe(e2.id);
      // e3, left, is newer than the newest attempt less the overlap.
      expect(await checkpoint()).toBe(newest() - 5 * 60_000);
      await stand.deliveriesSettled();

      const third = await dataPass();

      expect(third).toMatchObject({ asked: 1, deferred: 0 });
      expect(askedIds().at(-1)).toBe(e3.id);
      expect(await checkpoint()).toBe(newest() - 5 * 60_000);
      expect(askedIds()).not.toContain(tooOld.id);
    });

    it('a listing GitHub refuses is reported, and nothing else is done', async () => {
      stand.fail({ kind: 'unauthorized', method: 'GET', times: 1 });
      const checkpoint = await client.hget(
        keys.redeliverCheckpoints,
        source.name,
      );

      const summary = await pass(100);

      expect(summary?.error).toMatch(/^401 /);
      expect(await client.hget(keys.redeliverCheckpoints, source.name)).toBe(
        checkpoint,
      );
    });
  },
);
