/** `TaskStore` on Redis: see `task-store.ts` for the contract. */
import type { Redis } from 'ioredis';
import type { RunNodeState, RunStatus } from '../model/run.js';
import { isTerminalNode } from '../orchestrator/node-machine.js';
import type { TaskChildSpec } from '../orchestrator/task/task-children.js';
import type { RedisKeys } from '../redis/redis-keys.js';
import { encodeNode } from './encode-node.js';
import { parseNodeState } from './parse-run-record.js';
import { runScript } from './store-script.js';
import { expandTaskScript } from './task-scripts.js';
import type { TaskStore } from './task-store.js';
import { toStoredJson } from './to-stored-json.js';

export function createRedisTaskStore(
  redis: Redis,
  options: { keys: RedisKeys; maxRunEvents?: number },
): TaskStore {
  const { keys } = options;
  const maxEvents = options.maxRunEvents ?? 50_000;
  return {
    async expandTask(change) {
      const fields: string[] = [];
      const queued: string[] = [];
      const pending: string[] = [];
      for (const child of change.children) {
        fields.push(
          `n:${child.state.name}`,
          encodeNode(child.state),
          `c:${child.state.name}`,
          toStoredJson(child.spec),
        );
        (child.state.status === 'queued' ? queued : pending).push(
          child.state.name,
        );
      }
      fields.push(
        `n:${change.join.state.name}`,
        encodeNode(change.join.state),
        `w:${change.join.state.name}`,
        String(change.join.waits),
      );
      const payload = {
        runId: change.runId,
        node: change.to.name,
        from: encodeNode(change.from),
        to: encodeNode(change.to),
        ...(change.runIn ? { runIn: change.runIn } : {}),
        terminal:
          isTerminalNode(change.to.status) &&
          !isTerminalNode(change.from.status),
        task: change.task,
        count: change.children.length,
        fields,
        queued,
        pending,
        event: toStoredJson({
          kind: 'node',
          runId: change.runId,
          node: change.to.name,
          status: change.to.status,
          ...(change.to.phase ? { phase: change.to.phase } : {}),
          attempt: change.to.attempt,
          ...(change.to.message ? { message: change.to.message } : {}),
          at: change.at,
        }),
        at: change.at,
        maxEvents,
      };
      const raw = await runScript(redis, expandTaskScript, {
        keys: [keys.run(change.runId), keys.runEvents(change.runId)],
        args: [toStoredJson(payload)],
      });
      const result = JSON.parse(String(raw)) as Record<string, unknown>;
      if (result.code === 'ok') {
        return {
          code: 'ok',
          status: result.status as RunStatus,
          left: Number(result.left),
          children: Number(result.children),
        };
      }
      if (result.code === 'moved' || result.code === 'run') {
        return {
          code: result.code,
          node: parseNodeState(String(result.node)) as RunNodeState,
          status: result.status as RunStatus,
        };
      }
      return { code: 'missing' };
    },

    async getChildSpecs(runId, names) {
      if (names.length === 0) return [];
      const specs: Array<TaskChildSpec | null> = [];
      // Bounded HMGETs: a 10,000-child task is read in slices.
      for (let from = 0; from < names.length; from += 1000) {
        const values = await redis.hmget(
          keys.run(runId),
          ...names.slice(from, from + 1000).map((name) => `c:${name}`),
        );
        for (const value of values) specs.push(parseSpec(value));
      }
      return specs;
    },

    async countTaskChildren(runId, task) {
      return Number((await redis.hget(keys.run(runId), `tn:${task}`)) ?? 0);
    },

    async announceMember(runId, task, memberId, member) {
      // Only into a run that exists: a late member of a deleted run
      // must not recreate its hash.
      await redis.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0",
        1,
        keys.run(runId),
        `m:${task}#${memberId}`,
        toStoredJson(member),
      );
    },

    async listMembers(runId, task, memberIds) {
      if (memberIds.length === 0) return [];
      const values = await redis.hmget(
        keys.run(runId),
        ...memberIds.map((id) => `m:${task}#${id}`),
      );
      return values.map((value) => {
        if (!value) return null;
        try {
          return JSON.parse(value) as Record<string, unknown>;
        } catch {
          return null;
        }
      });
    },
  };
}

function parseSpec(value: string | null | undefined): TaskChildSpec | null {
  if (!value) return null;
  try {
    const spec = JSON.parse(value) as Partial<TaskChildSpec>;
    if (
      typeof spec.task !== 'string' ||
      typeof spec.number !== 'number' ||
      typeof spec.batch !== 'number'
    ) {
      return null;
    }
    return {
      task: spec.task,
      number: spec.number,
      batch: spec.batch,
      batchSize: typeof spec.batchSize === 'number' ? spec.batchSize : 1,
      ...(typeof spec.releases === 'number' ? { releases: spec.releases } : {}),
      parameters:
        spec.parameters && typeof spec.parameters === 'object'
          ? spec.parameters
          : {},
    };
  } catch {
    return null;
  }
}
