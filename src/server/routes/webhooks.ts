/**
 * `POST /webhooks/github`: takes a GitHub delivery, checks it, queues it,
 * answers in milliseconds. No git or YAML work happens here (the intake
 * worker does it). Mounted before any body parser: the signature is
 * checked over the raw bytes.
 *
 * Answers: 202 queued (only once the job is stored in Redis); 200
 * duplicate (same X-GitHub-Delivery again); 400/401/408/413/415 with
 * `{error}` for bad requests; 503 when Redis can't store the delivery, so
 * GitHub logs a failure that can be redelivered. Never 500: anything
 * unexpected is logged and answered 503.
 */
import { randomUUID } from 'node:crypto';
import {
  Router,
  type NextFunction,
  type Request,
  type Response,
} from 'express';
import { readTrimmedPayload } from '../../forge/github/trim-payload.js';
import { verifySignature } from '../../forge/github/verify-signature.js';
import { claimDelivery, confirmQueued } from '../../intake/delivery-ledger.js';
import {
  createDeliveryLog,
  type DeliveryLog,
  type DeliveryPatch,
} from '../../intake/delivery-log.js';
import {
  createIntakeQueue,
  type IntakeQueue,
} from '../../intake/intake-queue.js';
import {
  BodyReadError,
  declaresTooLarge,
  readRawBody,
} from '../read-raw-body.js';
import type { ServerDeps } from '../../http/server-deps.js';
import { redisRefusalOf } from '../../redis/redis-refusal.js';
import { createBodyBudget } from '../body-budget.js';

export const WEBHOOK_PATH = '/webhooks/github';

const deliveryIdShape = /^[A-Za-z0-9._-]{1,100}$/;
const eventShape = /^[a-z_]{1,100}$/;
const jsonType = /^application\/json\s*(;.*)?$/i;
const recordTimeoutMs = 1_000;

interface Rejection {
  status: number;
  error: string;
}

export interface WebhooksRouterOptions {
  /** Tests and `kiln server` may share one; otherwise made from deps.redis. */
  intakeQueue?: IntakeQueue;
}

export function createWebhooksRouter(
  deps: ServerDeps,
  options: WebhooksRouterOptions = {},
): Router {
  const { settings, logger } = deps;
  const { keys } = deps;
  const deliveries = createDeliveryLog(deps.redis, { keys });
  let queue = options.intakeQueue;
  const intakeQueue = (): IntakeQueue => {
    queue ??= createIntakeQueue({
      connection: deps.redis,
      bullPrefix: keys.bullPrefix,
    });
    return queue;
  };
  const budget = createBodyBudget({
    totalBytes: settings.webhookInflightBytes,
  });
  const router = Router();

  router.post(WEBHOOK_PATH, async (req, res) => {
    const claimed = headerText(req.headers['x-github-delivery']);
    const event = headerText(req.headers['x-github-event']);
    const reject = async (
      rejection: Rejection,
      recordAs?: string,
    ): Promise<void> => {
      closeConnection(req, res);
      res.status(rejection.status).json({ error: rejection.error });
      await recordQuietly(deliveries, recordAs ?? `rejected-${randomUUID()}`, {
        deliveryId: claimed?.slice(0, 100),
        event: event?.slice(0, 100),
        status: 'rejected',
        reason: rejection.error,
        httpStatus: rejection.status,
      });
    };

    const secrets = [
      settings.webhookSecret,
      settings.webhookSecretPrevious,
    ].filter((secret): secret is string => Boolean(secret));
    if (secrets.length === 0 || !settings.webhookSecret) {
      closeConnection(req, res);
      res.status(503).json({
        error:
          'webhooks are not configured: set KILN_WEBHOOK_SECRET to the secret of the GitHub webhook',
      });
      return;
    }
    const early = checkHeaders(req, settings.webhookMaxBytes);
    if (early) return reject(early);

    // Counted before a byte is read: the signature is only known after.
    const release = budget.admit(
      declaredLength(req) ?? settings.webhookMaxBytes,
    );
    if (!release) {
      closeConnection(req, res);
      res.setHeader('Retry-After', '10');
      res.status(503).json({
        error:
          'kiln is receiving too many request bodies at once (KILN_WEBHOOK_INFLIGHT_BYTES); redeliver this one from GitHub',
      });
      return;
    }
    let body: Buffer;
    try {
      body = await readRawBody(req, {
        maxBytes: settings.webhookMaxBytes,
        timeoutMs: settings.webhookTimeoutMs,
      });
    } catch (error) {
      release();
      if (!(error instanceof BodyReadError)) throw error;
      if (error.code === 'BODY_ABORTED') {
        req.destroy();
        return;
      }
      const status = error.code === 'BODY_TOO_LARGE' ? 413 : 408;
      return reject({ status, error: error.message });
    }
    // Held until the answer is sent: the body is parsed and queued first.
    res.once('close', release);
    const signature = verifySignature({
      body,
      header: req.headers['x-hub-signature-256'],
      secrets,
    });
    if (!signature.ok) return reject({ status: 401, error: signature.reason });
    // Signed by GitHub from here on: the headers can be believed.
    if (!claimed || !deliveryIdShape.test(claimed)) {
      return reject({
        status: 400,
        error:
          'X-GitHub-Delivery is missing or not a delivery GUID (letters, digits, ., _ and -)',
      });
    }
    if (!event || !eventShape.test(event)) {
      return reject(
        { status: 400, error: 'X-GitHub-Event is missing or malformed' },
        claimed,
      );
    }
    // Only what kiln reads is decoded, queued and kept (not a 24 MB payload
    // for the redelivery window); the body itself goes with this request.
    const payload = readTrimmedPayload(event, body);
    if (!payload.ok) {
      return reject({ status: 400, error: payload.problem }, claimed);
    }

    const claim = await withTimeout(claimDelivery(deps.redis, keys, claimed));
    if (claim === 'duplicate') {
      await withTimeout(deliveries.countDuplicate(claimed)).catch(
        () => undefined,
      );
      res.status(200).json({ status: 'duplicate', delivery: claimed });
      return;
    }
    await intakeQueue().enqueue({
      deliveryId: claimed,
      event,
      payload: JSON.stringify(payload.value),
    });
    try {
      await withTimeout(
        Promise.all([
          confirmQueued(deps.redis, keys, claimed),
          deliveries.recordDelivery(
            claimed,
            { deliveryId: claimed, event, status: 'queued' },
            { keepExisting: true },
          ),
        ]),
      );
    } catch (error) {
      // The job is stored: the worker records the outcome; a redelivery
      // re-adds the same job id, which BullMQ ignores.
      logger.warn({ err: error, delivery: claimed }, 'delivery record failed');
    }
    res.status(202).json({ status: 'queued', delivery: claimed });
  });

  router.use(
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      if (req.path !== WEBHOOK_PATH) {
        next(error);
        return;
      }
      const refusal = redisRefusalOf(error);
      logger.error(
        { err: error, refusal: refusal?.kind },
        refusal
          ? `webhook delivery not stored: ${refusal.reason}`
          : 'webhook delivery not stored',
      );
      if (res.headersSent) {
        req.destroy();
        return;
      }
      closeConnection(req, res);
      res.status(503).json({
        error: refusal
          ? `kiln could not store this delivery: ${refusal.reason}; redeliver it from GitHub once Redis is fixed`
          : 'kiln could not store this delivery right now (Redis unavailable or slow); redeliver it from GitHub later',
      });
    },
  );
  return router;
}

function declaredLength(req: Request): number | undefined {
  const declared = req.headers['content-length'];
  return declared !== undefined && /^\d+$/.test(declared)
    ? Number(declared)
    : undefined;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.join(',');
}

/** What can be refused before reading the body. */
function checkHeaders(req: Request, maxBytes: number): Rejection | null {
  const type = req.headers['content-type'] ?? '';
  if (!jsonType.test(type)) {
    return {
      status: 415,
      error:
        'Content-Type must be application/json: choose "application/json" as the content type of the GitHub webhook',
    };
  }
  if (declaresTooLarge(req, maxBytes)) {
    return {
      status: 413,
      error: `the body is larger than ${maxBytes} bytes (KILN_WEBHOOK_MAX_BYTES)`,
    };
  }
  if (req.headers['x-hub-signature-256'] === undefined) {
    return {
      status: 401,
      error:
        'missing X-Hub-Signature-256 header: set a secret on the GitHub webhook (the same as KILN_WEBHOOK_SECRET)',
    };
  }
  return null;
}

/**
 * Unread bytes stay unread: the reply says `Connection: close` and the
 * socket is closed once it is sent, so a huge or trickled body is dropped.
 */
function closeConnection(req: Request, res: Response): void {
  if (req.complete) return;
  res.setHeader('Connection', 'close');
  res.once('finish', () => {
    req.socket.destroySoon();
  });
}

async function recordQuietly(
  deliveries: DeliveryLog,
  id: string,
  patch: DeliveryPatch,
): Promise<void> {
  try {
    await withTimeout(deliveries.recordDelivery(id, patch));
  } catch {
    // Redis down: the answer to GitHub matters more than the record.
  }
}

async function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error('Redis did not answer in time')),
          recordTimeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
