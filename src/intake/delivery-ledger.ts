/**
 * The once-only ledger of webhook deliveries: `<prefix>:delivery:<guid>`,
 * set with NX before the delivery is queued and kept 4 days (GitHub keeps
 * deliveries for redelivery 3 days). Its value says how far the first copy
 * got, so a copy that arrives after a crash between "claimed" and "queued"
 * queues again (the queue's job id still keeps it to one job) instead of
 * being dropped as a duplicate.
 *
 * Order per delivery: `claimDelivery` → enqueue → `confirmQueued`.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';

export const LEDGER_TTL_SECONDS = 4 * 24 * 3600;

/**
 * `claimed`: first copy, queue it. `unconfirmed`: an earlier copy claimed it
 * but never confirmed the enqueue, queue it again. `duplicate`: done.
 */
export type DeliveryClaim = 'claimed' | 'unconfirmed' | 'duplicate';

export async function claimDelivery(
  redis: Redis,
  keys: RedisKeys,
  deliveryId: string,
): Promise<DeliveryClaim> {
  const key = keys.delivery(deliveryId);
  const set = await redis.set(key, 'received', 'EX', LEDGER_TTL_SECONDS, 'NX');
  if (set === 'OK') return 'claimed';
  const state = await redis.get(key);
  return state === 'queued' ? 'duplicate' : 'unconfirmed';
}

export async function confirmQueued(
  redis: Redis,
  keys: RedisKeys,
  deliveryId: string,
): Promise<void> {
  await redis.set(keys.delivery(deliveryId), 'queued', 'KEEPTTL', 'XX');
}
