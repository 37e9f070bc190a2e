/**
 * One side of M1 in its own process: `kiln` serves kiln's express app
 * (createApp with the real webhook route); `bare` is the baseline, a plain
 * `node:http` handler doing HMAC + timingSafeEqual + JSON.parse + one raw
 * BullMQ `Queue.add`. Both reply 202. Prints `port <n>` when listening.
 *
 *   tsx bench/webhook-server-child.ts kiln|bare   (REDIS_URL, WEBHOOK_SECRET)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createStepQueue } from '../src/queue/step-jobs.js';
import { redisOptionsFor } from '../src/redis/connect-redis.js';
import { createApp } from '../src/engine/create-app.js';
import { readSettings } from '../src/settings.js';
import { createStores } from '../src/store/create-stores.js';

const mode = process.argv[2];
const url = process.env.REDIS_URL ?? '';
const secret = process.env.WEBHOOK_SECRET ?? '';

function kilnHandler(): RequestListener {
  const settings = readSettings({
    KILN_DATA_DIR: mkdtempSync(join(tmpdir(), 'kiln-bench-m1-')),
    REDIS_URL: url,
    KILN_WEBHOOK_SECRET: secret,
    KILN_LOG_LEVEL: 'silent',
  });
  const logger = pino({ level: 'silent' });
  const redis = new Redis(url, redisOptionsFor('producer'));
  const bull = new Redis(url, redisOptionsFor('worker'));
  const stores = createStores(redis, { prefix: settings.redisPrefix });
  return createApp({
    settings,
    logger,
    redis,
    keys: stores.keys,
    control: {
      executions: stores.executions,
      runs: stores.runs,
      configs: stores.configs,
      steps: createStepQueue(bull, stores.keys.bullPrefix),
      logger,
    },
  });
}

function bareHandler(): RequestListener {
  const queue = new Queue('bare-intake', {
    connection: new Redis(url, { maxRetriesPerRequest: null }),
  });
  const key = Buffer.from(secret);
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const given = Buffer.from(
          String(req.headers['x-hub-signature-256'] ?? ''),
        );
        const expected = Buffer.from(
          `sha256=${createHmac('sha256', key).update(body).digest('hex')}`,
        );
        if (
          given.length !== expected.length ||
          !timingSafeEqual(given, expected)
        ) {
          res.writeHead(401).end();
          return;
        }
        const payload: unknown = JSON.parse(body.toString('utf8'));
        await queue.add('delivery', payload, {
          jobId: String(req.headers['x-github-delivery']),
          removeOnComplete: true,
        });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      })().catch(() => res.writeHead(500).end());
    });
  };
}

const server = createServer(mode === 'kiln' ? kilnHandler() : bareHandler());
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`port ${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
