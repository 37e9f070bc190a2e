/**
 * Reads a delivery file, signs and posts it (`kiln replay`). A recorded
 * delivery is `{"event": "push", "payload": {…}}` (optionally with
 * `"delivery"`); anything else is a raw payload and needs `--event`.
 */
import { open } from 'node:fs/promises';
import { postDelivery } from '../../forge/github/post-delivery.js';
import { readSettings } from '../../settings.js';
import { KilnError } from '../../errors.js';

export interface ReplayOptions {
  event?: string;
  url?: string;
  delivery?: string;
}

export class ReplayError extends KilnError {
  readonly code: 'REPLAY_FILE' | 'REPLAY_SETTINGS';
  constructor(code: ReplayError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface Delivery {
  event: string;
  /** The exact JSON text to send. */
  body: string;
  deliveryId?: string;
}

const eventShape = /^[a-z_]{1,100}$/;
const deliveryShape = /^[A-Za-z0-9._-]{1,100}$/;

export async function replayAction(
  file: string,
  options: ReplayOptions,
): Promise<number> {
  const settings = readSettings(process.env);
  if (!settings.webhookSecret) {
    throw new ReplayError(
      'REPLAY_SETTINGS',
      'KILN_WEBHOOK_SECRET is not set: set it to the secret kiln uses, so the delivery is signed as a forge would sign it',
    );
  }
  const text = await readBounded(file, settings.webhookMaxBytes);
  const delivery = parseDelivery(text, options.event, file);
  const deliveryId = options.delivery ?? delivery.deliveryId;
  if (deliveryId !== undefined && !deliveryShape.test(deliveryId)) {
    throw new ReplayError(
      'REPLAY_FILE',
      'the delivery id must be letters, digits, ., _ and - (at most 100)',
    );
  }
  const url =
    options.url ?? `http://localhost:${settings.port}/webhooks/github`;
  const answer = await postDelivery({
    url,
    secret: settings.webhookSecret,
    event: delivery.event,
    payload: delivery.body,
    deliveryId,
  });
  process.stdout.write(
    `${delivery.event} delivery ${answer.deliveryId} → ${url}\nHTTP ${answer.status} ${answer.body}\n`,
  );
  return answer.status >= 200 && answer.status < 300 ? 0 : 1;
}

/** Recorded `{event, payload}` or a raw payload with the event given. */
export function parseDelivery(
  text: string,
  event: string | undefined,
  file = 'the file',
): Delivery {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ReplayError('REPLAY_FILE', `${file} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ReplayError('REPLAY_FILE', `${file} is not a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const recorded =
    typeof record.event === 'string' &&
    typeof record.payload === 'object' &&
    record.payload !== null;
  const name = event ?? (recorded ? (record.event as string) : undefined);
  if (!name) {
    throw new ReplayError(
      'REPLAY_FILE',
      `${file} is a raw payload: say which event it is with --event (push, pull_request…)`,
    );
  }
  if (!eventShape.test(name)) {
    throw new ReplayError(
      'REPLAY_FILE',
      `event ${JSON.stringify(name.slice(0, 100))} is not an event name (lowercase letters and _)`,
    );
  }
  const delivery = recorded ? record.delivery : undefined;
  return {
    event: name,
    body: JSON.stringify(recorded ? record.payload : record),
    deliveryId: typeof delivery === 'string' ? delivery : undefined,
  };
}

async function readBounded(file: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ReplayError('REPLAY_FILE', `can't read ${file} (${reason})`);
  }
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(
        buffer,
        length,
        buffer.length - length,
      );
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      throw new ReplayError(
        'REPLAY_FILE',
        `${file} is larger than ${maxBytes} bytes (KILN_WEBHOOK_MAX_BYTES): kiln would refuse it`,
      );
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}
