/**
 * Follows Redis streams for many subscribers over ONE blocking connection:
 * each subscriber names a stream and the last id it saw, and receives every
 * later entry, in order, once. A page, a `kiln run`, a worker watching for
 * stop requests all share it, so following costs one connection per
 * process, not one per follower.
 *
 * Hand-written because ioredis has no stream multiplexer: it is a loop of
 * `XREAD BLOCK` over every subscribed stream at once; a new subscription
 * interrupts the blocked read with `CLIENT UNBLOCK` from the command
 * connection so it starts at once.
 *
 * Contract: `follow` may be called any time before `close`; entries are
 * delivered in stream order, each at most once per subscription, starting
 * after `after` ('$' = only new ones). The returned function unsubscribes
 * (idempotent). When Redis is unreachable the loop waits and resumes from
 * each subscriber's last id, so nothing is missed while the stream keeps
 * the entries (streams are capped: a follower gone for very long may find
 * its position trimmed away and resumes at the oldest entry kept).
 */
import type { Redis } from 'ioredis';

export type StreamEntry = [id: string, fields: string[]];

export interface StreamFollower {
  follow(
    key: string,
    after: string,
    onEntries: (entries: StreamEntry[]) => void,
  ): () => void;
  close(): Promise<void>;
}

interface Subscription {
  key: string;
  after: string;
  onEntries: (entries: StreamEntry[]) => void;
}

export interface StreamFollowerOptions {
  /** Commands (CLIENT UNBLOCK, resolving '$'); never blocked. */
  redis: Redis;
  /** How long one read blocks. @defaultValue 5000 */
  blockMs?: number;
  /** Entries per stream per read. @defaultValue 1000 */
  count?: number;
  onError?: (error: unknown) => void;
}

export function createStreamFollower(
  options: StreamFollowerOptions,
): StreamFollower {
  const { redis } = options;
  const blockMs = options.blockMs ?? 5000;
  // The blocking reads get a connection of their own, which waits for Redis
  // while it is away (the command connection may fail fast instead).
  const reader = redis.duplicate({
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    commandTimeout: blockMs + 10_000,
  });
  reader.on('error', () => undefined);
  const count = options.count ?? 1000;
  const subscriptions = new Set<Subscription>();
  let readerId: number | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  let reading = false;

  async function interrupt(): Promise<void> {
    wake?.();
    if (!reading || readerId === undefined) return;
    await redis.client('UNBLOCK', readerId).catch(() => undefined);
  }

  async function loop(): Promise<void> {
    readerId = Number(await reader.client('ID'));
    while (!closed) {
      if (subscriptions.size === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      // One cursor per stream: the oldest position any subscriber needs.
      const cursors = new Map<string, string>();
      for (const subscription of subscriptions) {
        const current = cursors.get(subscription.key);
        if (
          current === undefined ||
          compareIds(subscription.after, current) < 0
        ) {
          cursors.set(subscription.key, subscription.after);
        }
      }
      const streams = [...cursors.keys()];
      let replies: Array<[string, StreamEntry[]]> | null;
      try {
        reading = true;
        replies = (await reader.xread(
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...streams,
          ...streams.map((key) => cursors.get(key) as string),
        )) as Array<[string, StreamEntry[]]> | null;
      } catch (error) {
        reading = false;
        if (closed) return;
        if (!/UNBLOCKED/i.test(String(error))) {
          options.onError?.(error);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        continue;
      }
      reading = false;
      for (const [key, entries] of replies ?? []) {
        for (const subscription of [...subscriptions]) {
          if (subscription.key !== key) continue;
          const fresh = entries.filter(
            ([id]) => compareIds(id, subscription.after) > 0,
          );
          if (fresh.length === 0) continue;
          subscription.after = (fresh[fresh.length - 1] as StreamEntry)[0];
          try {
            subscription.onEntries(fresh);
          } catch (error) {
            options.onError?.(error);
          }
        }
      }
    }
  }

  // A close while the loop still asks for its connection id ends that ask
  // with "Connection is closed": nothing to report once closed.
  const running = loop().catch((error: unknown) => {
    if (!closed) options.onError?.(error);
  });

  return {
    follow(key, after, onEntries) {
      const subscription: Subscription = { key, after, onEntries };
      const start = async () => {
        if (after === '$') {
          // '$' is resolved now, so entries added from here on are seen.
          const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
          subscription.after = last?.[0] ?? '0-0';
        }
        if (closed) return;
        subscriptions.add(subscription);
        await interrupt();
      };
      start().catch((error: unknown) => {
        if (!closed) options.onError?.(error);
      });
      return () => {
        subscriptions.delete(subscription);
      };
    },
    async close() {
      closed = true;
      subscriptions.clear();
      await interrupt();
      reader.disconnect();
      await running;
    },
  };
}

/** Orders stream ids `<ms>-<seq>` (also '0', '0-0'). */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
