// Run by private-redis.test.ts as a separate process: one kiln command
// asking for the private Redis of a data dir, printing what it got.
import { ensurePrivateRedis } from '../../../src/redis/private-redis.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: ensure-private-redis-child <dataDir>');
const server = await ensurePrivateRedis({ dataDir });
process.stdout.write(
  JSON.stringify({ started: server.started, url: server.url }),
);
