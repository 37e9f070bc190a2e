/**
 * The stand-in's webhooks: it delivers events to a URL the way GitHub does
 * (signed JSON, `X-GitHub-Event`, `X-GitHub-Delivery`, a 10 s wait for the
 * answer) and keeps GitHub's delivery log — one record per attempt, with
 * GitHub's fields (id, guid, delivered_at, redelivery, status,
 * status_code, event, action…) — for the App's webhook (`app`) and for
 * repository webhooks (`repo:<owner/name>:<hook id>`). It serves the
 * delivery endpoints: the list (newest first, `per_page`, `cursor` and a
 * Link header, `status=success|failure`) and `POST …/attempts`, which
 * answers 202 and sends the same payload again under the same GUID, as a
 * new attempt with `redelivery: true`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { RecordedRequest, RouteResult } from './github-stand-in-state.js';

export interface StandInWebhook {
  /** Where deliveries go, e.g. `http://127.0.0.1:8080/webhooks/github`. */
  url: string;
  secret: string;
  /** How long GitHub waits for the answer. @defaultValue 10000 */
  timeoutMs?: number;
  /** Repository webhooks by `owner/name`: their hook ids. */
  repoHooks?: Record<string, number>;
}

export interface HookAttempt {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at: null;
  /** `app` or `repo:<owner/name>:<hook id>`. */
  hook: string;
  /** The exact body sent. */
  body: string;
}

export interface DeliverOptions {
  event: string;
  payload: object;
  /** `app` (the default) or a repository webhook `repo:<owner/name>:<id>`. */
  hook?: string;
  /** When GitHub attempted it, if not now (an attempt made while kiln was away). */
  at?: Date;
  /**
   * Stop waiting for the answer after this long and record a timeout (the
   * request itself goes on, as GitHub's does), overriding `timeoutMs`.
   */
  giveUpAfterMs?: number;
}

export interface HookLog {
  /** Every attempt, oldest first. */
  attempts: HookAttempt[];
  /** Delivers a new event (a new GUID); resolves with its attempt. */
  deliver(options: DeliverOptions): Promise<HookAttempt>;
  /** `POST …/attempts` requests' redeliveries, settled. */
  settled(): Promise<void>;
  route(template: string, request: RecordedRequest): RouteResult | undefined;
}

export function createHookLog(
  webhook: StandInWebhook | undefined,
  baseUrl: () => string,
): HookLog {
  const attempts: HookAttempt[] = [];
  const pending = new Set<Promise<unknown>>();
  let nextId = 90_000_000;

  async function attempt(
    base: Omit<
      HookAttempt,
      'id' | 'delivered_at' | 'duration' | 'status' | 'status_code'
    >,
    giveUpAfterMs?: number,
    at?: Date,
  ): Promise<HookAttempt> {
    if (!webhook)
      throw new Error('start the stand-in with `webhook` to deliver');
    const record: HookAttempt = {
      ...base,
      id: nextId++,
      delivered_at: (at ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      duration: 0,
      status: 'pending',
      status_code: 0,
    };
    attempts.push(record);
    const started = Date.now();
    const waitMs = giveUpAfterMs ?? webhook.timeoutMs ?? 10_000;
    const answer = fetch(webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/stand-in',
        'x-github-event': record.event,
        'x-github-delivery': record.guid,
        'x-github-hook-id': record.hook,
        'x-hub-signature-256': `sha256=${createHmac('sha256', webhook.secret).update(record.body).digest('hex')}`,
      },
      body: record.body,
    }).then(
      async (response) => {
        await response.text();
        return { code: response.status };
      },
      () => ({ code: -1 }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ code: -2 }>((resolve) => {
      timer = setTimeout(() => resolve({ code: -2 }), waitMs);
    });
    const { code } = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    record.duration = (Date.now() - started) / 1000;
    if (code === -1) record.status = 'failed to connect to host';
    else if (code === -2) record.status = 'timed out';
    else if (code >= 200 && code < 300) record.status = 'OK';
    else record.status = `Invalid HTTP Response: ${code}`;
    record.status_code = code > 0 ? code : 0;
    return record;
  }

  function hookOf(template: string, parts: string[]): string | undefined {
    if (template.startsWith('/app/')) return 'app';
    const repository = `${parts[2]}/${parts[3]}`;
    const id = Number(parts[5]);
    return webhook?.repoHooks?.[repository] === id
      ? `repo:${repository}:${id}`
      : undefined;
  }

  function list(request: RecordedRequest, hook: string): RouteResult {
    const perPage = Math.min(100, Number(request.query.per_page ?? 30) || 30);
    const cursor = /^v1_(\d+)$/.exec(request.query.cursor ?? '')?.[1];
    const wanted = request.query.status;
    // Newest first by time (GitHub's ids grow with it); a cursor names the
    // last attempt of the page before.
    const sorted = attempts
      .filter((item) => item.hook === hook && item.status !== 'pending')
      .filter((item) => {
        const ok = item.status_code >= 200 && item.status_code < 300;
        return wanted === 'success' ? ok : wanted === 'failure' ? !ok : true;
      })
      .sort(
        (a, b) =>
          Date.parse(b.delivered_at) - Date.parse(a.delivered_at) ||
          b.id - a.id,
      );
    const after =
      cursor === undefined
        ? -1
        : sorted.findIndex((item) => item.id === Number(cursor));
    const all = sorted.slice(after + 1);
    const page = all.slice(0, perPage);
    const headers: Record<string, string> = {};
    const last = page.at(-1);
    if (all.length > perPage && last) {
      const next = new URLSearchParams({
        per_page: String(perPage),
        cursor: `v1_${last.id}`,
        ...(wanted ? { status: wanted } : {}),
      });
      headers.link = `<${baseUrl()}${request.path}?${next.toString()}>; rel="next"`;
    }
    return {
      status: 200,
      body: page.map(({ hook: _hook, body: _body, ...item }) => item),
      headers,
    };
  }

  return {
    attempts,
    deliver(options) {
      const payload = options.payload as {
        action?: unknown;
        installation?: { id?: unknown };
        repository?: { id?: unknown };
      };
      const done = attempt(
        {
          guid: randomUUID(),
          redelivery: false,
          event: options.event,
          action: typeof payload.action === 'string' ? payload.action : null,
          installation_id:
            typeof payload.installation?.id === 'number'
              ? payload.installation.id
              : null,
          repository_id:
            typeof payload.repository?.id === 'number'
              ? payload.repository.id
              : null,
          throttled_at: null,
          hook: options.hook ?? 'app',
          body: JSON.stringify(options.payload),
        },
        options.giveUpAfterMs,
        options.at,
      );
      pending.add(done);
      void done.finally(() => pending.delete(done));
      return done;
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    route(template, request) {
      const parts = request.path.split('/').map(decodeURIComponent);
      const hook = hookOf(template, parts);
      switch (`${request.method} ${template}`) {
        case 'GET /app/hook/deliveries':
        case 'GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries':
          if (!hook) return { status: 404, body: { message: 'Not Found' } };
          return list(request, hook);
        case 'POST /app/hook/deliveries/{delivery_id}/attempts':
        case 'POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts': {
          const id = Number(parts.at(-2));
          const original = attempts.find(
            (item) => item.id === id && item.hook === hook,
          );
          if (!hook || !original)
            return { status: 404, body: { message: 'Not Found' } };
          // GitHub answers at once and delivers afterwards.
          const done = attempt({ ...original, redelivery: true });
          pending.add(done);
          void done.finally(() => pending.delete(done));
          return { status: 202, body: {} };
        }
      }
      return undefined;
    },
  };
}
