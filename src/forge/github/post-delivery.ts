/**
 * Sends one webhook delivery the way GitHub does: the JSON body signed with
 * HMAC-SHA256 (`X-Hub-Signature-256`), `X-GitHub-Event` and a fresh
 * `X-GitHub-Delivery`. Used by `kiln replay` and the demo; the git hook in
 * webhooks/ does the same in plain JavaScript.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { KilnError } from '../../errors.js';

export interface PostDeliveryOptions {
  /** e.g. `http://localhost:8080/webhooks/github` */
  url: string;
  /** The webhook secret kiln has (KILN_WEBHOOK_SECRET). */
  secret: string;
  /** `push`, `pull_request`… */
  event: string;
  /** A value to serialise, or the exact body text to sign and send. */
  payload: unknown;
  /** @defaultValue a new UUID (a replay is a new delivery) */
  deliveryId?: string;
  /** @defaultValue 10000, as long as GitHub waits */
  timeoutMs?: number;
}

export interface DeliveryAnswer {
  deliveryId: string;
  status: number;
  /** The answer's body, cut at 64 KiB. */
  body: string;
}

export class DeliveryPostError extends KilnError {
  readonly code = 'DELIVERY_POST_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const maxAnswer = 64 * 1024;

/** `sha256=<hex>` over the exact bytes sent. */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs once, no retry (the caller decides). Throws `DeliveryPostError`
 * when nothing answers; any HTTP answer, 4xx and 5xx included, is returned.
 */
export async function postDelivery(
  options: PostDeliveryOptions,
): Promise<DeliveryAnswer> {
  const body =
    typeof options.payload === 'string'
      ? options.payload
      : JSON.stringify(options.payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'kiln-replay/1',
        'X-GitHub-Event': options.event,
        'X-GitHub-Delivery': deliveryId,
        'X-Hub-Signature-256': signBody(body, options.secret),
      },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DeliveryPostError(
      `could not reach ${options.url} (${reason}): is kiln running there? (start it with kiln up, or pass --url)`,
      { cause: error },
    );
  }
  const text = await response.text();
  return {
    deliveryId,
    status: response.status,
    body: text.slice(0, maxAnswer),
  };
}
