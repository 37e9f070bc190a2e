/**
 * GitHub's record of the deliveries of a webhook, and its redelivery
 * endpoint, as GitHub's guide "Handling failed webhook deliveries" uses
 * them: the GitHub App's own webhook (`GET /app/hook/deliveries`,
 * `POST /app/hook/deliveries/{delivery_id}/attempts`, authenticated as the
 * App with a JWT) or a repository webhook
 * (`GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries`, `POST …/attempts`,
 * a token with the repository's Webhooks permission). GitHub keeps
 * deliveries 3 days and never redelivers one by itself.
 *
 * Contract: `listSince` and `redeliver` may be called concurrently; they
 * throw Octokit's errors (the caller logs them and tries again next pass).
 */
import { z } from 'zod';
import type { GithubClient, GithubOctokit } from './create-github-client.js';

/** One attempt to deliver an event (a GUID has one per attempt). */
export interface HookDelivery {
  /** The attempt's id: what a redelivery names. */
  id: number;
  /** The event's GUID, kiln's `X-GitHub-Delivery` (same on every attempt). */
  guid: string;
  /** When GitHub attempted it (ms, GitHub's clock). */
  deliveredAt: number;
  redelivery: boolean;
  /** GitHub's words: `OK`, `failed to connect to host`, `Invalid HTTP Response: 503`… */
  status: string;
  /** The answer's HTTP status; 0 when none came (refused, timed out). */
  statusCode: number;
  event: string;
  action?: string;
}

export interface HookDeliveryList {
  /** Newest first, none delivered before `since`. */
  deliveries: HookDelivery[];
  /** False when `maxDeliveries` stopped the listing before `since`. */
  complete: boolean;
}

export interface HookDeliverySource {
  /** `app` or `repo:<owner/name>:<hook id>`: names its checkpoint and logs. */
  name: string;
  /**
   * The deliveries attempted at or after `since` (ms), following GitHub's
   * cursor pages (newest first) until one reaches back before `since` or
   * `maxDeliveries` were read.
   */
  listSince(
    since: number,
    options: { maxDeliveries: number },
  ): Promise<HookDeliveryList>;
  /** Asks GitHub to attempt delivery `id` again (GitHub answers 202). */
  redeliver(id: number): Promise<void>;
}

export interface CreateHookDeliverySourcesOptions {
  github: GithubClient;
  /** `owner/name:hook id` entries (KILN_GITHUB_REPO_HOOKS), token auth only. */
  repoHooks: string[];
}

// Lenient: only the fields kiln uses, whatever else GitHub adds.
const Delivery = z.looseObject({
  id: z.number().int(),
  guid: z.string().min(1).max(200),
  delivered_at: z.string(),
  redelivery: z.boolean(),
  status: z.string(),
  status_code: z.number().int(),
  event: z.string(),
  action: z.string().nullable().optional(),
});

/**
 * The webhooks kiln can reconcile: the App's own with App auth; each of
 * `repoHooks` with token auth. Empty when there is nothing to ask.
 */
export function createHookDeliverySources(
  options: CreateHookDeliverySourcesOptions,
): HookDeliverySource[] {
  const { github } = options;
  const app = github.forApp();
  if (app) {
    return [
      createSource({
        name: 'app',
        octokit: async () => app,
        list: 'GET /app/hook/deliveries',
        attempt: 'POST /app/hook/deliveries/{delivery_id}/attempts',
        parameters: {},
      }),
    ];
  }
  return options.repoHooks.map((entry) => {
    const [repository = '', hook = ''] = entry.split(':');
    const [owner = '', repo = ''] = repository.split('/');
    return createSource({
      name: `repo:${entry}`,
      octokit: () => github.forRepository(repository),
      list: 'GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries',
      attempt:
        'POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts',
      parameters: { owner, repo, hook_id: Number(hook) },
    });
  });
}

interface SourceOptions {
  name: string;
  octokit: () => Promise<GithubOctokit>;
  list: string;
  attempt: string;
  parameters: Record<string, string | number>;
}

function createSource(options: SourceOptions): HookDeliverySource {
  return {
    name: options.name,
    async listSince(since, { maxDeliveries }) {
      const octokit = await options.octokit();
      const deliveries: HookDelivery[] = [];
      const pages = octokit.paginate.iterator(options.list, {
        ...options.parameters,
        per_page: 100,
      });
      for await (const page of pages) {
        for (const item of page.data as unknown[]) {
          const parsed = Delivery.safeParse(item);
          const delivery = parsed.success ? toDelivery(parsed.data) : null;
          if (!delivery) continue;
          // Newest first: the first one before `since` ends the listing.
          if (delivery.deliveredAt < since)
            return { deliveries, complete: true };
          if (deliveries.length >= maxDeliveries)
            return { deliveries, complete: false };
          deliveries.push(delivery);
        }
      }
      return { deliveries, complete: true };
    },
    async redeliver(id) {
      const octokit = await options.octokit();
      await octokit.request(options.attempt, {
        ...options.parameters,
        delivery_id: id,
      });
    },
  };
}

/** `null` for an attempt without a readable time: it can't be placed. */
function toDelivery(item: z.infer<typeof Delivery>): HookDelivery | null {
  const at = Date.parse(item.delivered_at);
  if (!Number.isFinite(at)) return null;
  return {
    id: item.id,
    guid: item.guid,
    deliveredAt: at,
    redelivery: item.redelivery,
    status: item.status,
    statusCode: item.status_code,
    event: item.event,
    action: item.action ?? undefined,
  };
}
