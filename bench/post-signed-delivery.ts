/**
 * One timed webhook POST for the ingress benchmarks (M1, L1–L3), as GitHub
 * sends it: a body signed before the clock starts, its event and delivery
 * GUID, on the caller's agent (one new connection each, or kept alive).
 * Times from opening the request to the last byte of the answer. Never
 * rejects: a connection error is status 0, so a load run counts it
 * instead of stopping. (kiln's own `postDelivery` signs and reads the
 * answer's body, which a latency measure must not include.)
 */
import { randomUUID } from 'node:crypto';
import { request, type Agent } from 'node:http';

export interface SignedDelivery {
  body: Buffer;
  /** `sha256=<hex>`, right or deliberately wrong. */
  signature: string;
  /** @defaultValue 'push' */
  event?: string;
  /** @defaultValue a new UUID */
  guid?: string;
}

export interface TimedAnswer {
  /** The HTTP status, 0 when the connection failed. */
  status: number;
  ms: number;
}

export function postSignedDelivery(
  port: number,
  agent: Agent,
  delivery: SignedDelivery,
): Promise<TimedAnswer> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/github',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': delivery.body.length,
          'x-github-event': delivery.event ?? 'push',
          'x-github-delivery': delivery.guid ?? randomUUID(),
          'x-hub-signature-256': delivery.signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - start,
          }),
        );
      },
    );
    req.on('error', () =>
      resolve({ status: 0, ms: performance.now() - start }),
    );
    req.end(delivery.body);
  });
}
