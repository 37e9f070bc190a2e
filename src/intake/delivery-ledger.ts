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

export const LEDGER_TTL_SECONDS = 4 * 24 * 3600;

/**
 * `claimed`: first copy, queue it. `unconfirmed`: an earlier copy claimed it
 * but never confirmed the enqueue, queue it again. `duplicate`: done.
 */
export type DeliveryClaim = 'claimed' | 'unconfirmed' | 'duplicate';

export function ledgerKey(prefix: string, deliveryId: string): string {
  return `${prefix}:delivery:${deliveryId}`;
}

export async function claimDelivery(
  redis: Redis,
  prefix: string,
  deliveryId: string,
): Promise<DeliveryClaim> {
  const key = ledgerKey(prefix, deliveryId);
  const set = await redis.set(key, 'received', 'EX', LEDGER_TTL_SECONDS, 'NX');
  if (set === 'OK') return 'claimed';
  const state = await redis.get(key);
  return state === 'queued' ? 'duplicate' : 'unconfirmed';
}

export async function confirmQueued(
  redis: Redis,
  prefix: string,
  deliveryId: string,
): Promise<void> {
  await redis.set(ledgerKey(prefix, deliveryId), 'queued', 'KEEPTTL', 'XX');
}
