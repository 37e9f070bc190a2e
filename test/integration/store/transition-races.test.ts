/**
 * Random interleavings — two workers claiming, moving phases, ending and
 * failing attempts on a diamond pipeline, some of them at the same moment,
 * with a cancel or a supersede thrown in — played through the control
 * plane on a real redis-server. Whatever the order, every change the run's
 * event stream records is a legal transition: nothing leaves a terminal
 * state, attempts never go back, and a run that ended has no node left
 * running.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import { applyRunEvent } from '../../../src/control/apply-run-event.js';
import { cancelRun } from '../../../src/control/cancel-run.js';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { createRun } from '../../../src/control/create-run.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type { RunNodeState } from '../../../src/model/run.js';
import type { NodeEvent } from '../../../src/orchestrator/node-machine.js';
import { isTerminalNode } from '../../../src/orchestrator/node-machine.js';
import {
  CLAIMABLE_RUN_STATUSES,
  isFinalRunStatus,
} from '../../../src/orchestrator/run-machine.js';
import type { StepJob } from '../../../src/queue/step-jobs.js';
import { createStores } from '../../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

const CONFIG = `
- step: {name: s, image: busybox, command: "true"}
- pipeline:
    name: diamond
    nodes:
      - {name: prepare, type: execution, step: s}
      - {name: left, type: execution, step: s, on-error: retry}
      - {name: right, type: execution, step: s, on-error: continue}
      - {name: join, type: execution, step: s}
    edges:
      - [prepare.output.*, left.input.a]
      - [prepare.output.*, right.input.a]
      - [left.output.*, join.input.b]
      - [right.output.*, join.input.b]
`;
const NODES = ['prepare', 'left', 'right', 'join'] as const;

// Node status changes a run may record: from → allowed next statuses.
const LEGAL_NODE: Record<string, readonly string[]> = {
  pending: ['queued', 'skipped', 'error'],
  queued: ['started', 'stopped', 'error'],
  started: ['started', 'queued', 'complete', 'error', 'stopped', 'reused'],
};
const LEGAL_RUN: Record<string, readonly string[]> = {
  created: [
    'queued',
    'running',
    'cancelled',
    'error',
    'stopped',
    'complete',
    'waiting-approval',
  ],
  queued: [
    'running',
    'cancelled',
    'error',
    'stopped',
    'complete',
    'waiting-approval',
  ],
  running: ['cancelled', 'error', 'stopped', 'complete', 'waiting-approval'],
  'waiting-approval': [
    'queued',
    'running',
    'cancelled',
    'error',
    'stopped',
    'complete',
  ],
};

type Action =
  | { kind: 'claim'; worker: number; node: number }
  | {
      kind: 'phase';
      worker: number;
      node: number;
      phase: 'inputs' | 'running' | 'uploading';
    }
  | {
      kind: 'finish';
      worker: number;
      node: number;
      outcome: 'complete' | 'error' | 'stopped';
    }
  | { kind: 'infra'; worker: number; node: number; retry: boolean }
  | { kind: 'cancel' }
  | { kind: 'supersede' };

const worker = fc.integer({ min: 0, max: 1 });
const node = fc.integer({ min: 0, max: NODES.length - 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('claim' as const), worker, node }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('phase' as const),
      worker,
      node,
      phase: fc.constantFrom(
        'inputs' as const,
        'running' as const,
        'uploading' as const,
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('finish' as const),
      worker,
      node,
      outcome: fc.constantFrom(
        'complete' as const,
        'complete' as const,
        'error' as const,
        'stopped' as const,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('infra' as const),
      worker,
      node,
      retry: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancel' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'supersede' as const }) },
);
// Steps of one or two actions: a pair runs at the same moment (a race).
const script = fc.array(fc.array(action, { minLength: 1, maxLength: 2 }), {
  minLength: 3,
  maxLength: 25,
});

describe.skipIf(!haveRedis())(
  'random interleavings of two workers, a cancel and a supersede',
  () => {
    let server: TestRedis;
    let redis: Redis;
    beforeAll(async () => {
      server = await startTestRedis();
      redis = new Redis(server.url);
    });
    afterAll(async () => {
      redis?.disconnect();
      await server?.close();
    });

    it('never records an illegal transition', async () => {
      // How much the scripts exercised, so a vacuous pass shows.
      const seen = { changes: 0, runEnds: new Set<string>(), takeovers: 0 };
      await fc.assert(
        fc.asyncProperty(script, async (steps) => {
          const stores = createStores(redis, {
            prefix: `race-${randomUUID()}`,
          });
          const jobs: StepJob[] = [];
          const deps: ControlDeps = {
            ...stores,
            steps: {
              enqueue: async (_queue, list) => void jobs.push(...list),
              close: async () => undefined,
            },
            logger: pino({ level: 'silent' }),
          };
          const run = await createRun(deps, {
            repository: 'acme/models',
            source: { id: 'acme/models', url: '/nowhere' },
            commit: 'a'.repeat(40),
            ref: 'refs/heads/main',
            name: 'diamond',
            configText: CONFIG,
            configFile: 'kiln.yaml',
          });
          const { graph } = await loadRunPlan(deps.configs, run);
          const views = new Map<string, RunNodeState>();
          const draft =
            (name: string) =>
            (
              id: string,
              attempt: number,
            ): Omit<ExecutionRecord, 'counter'> => ({
              id,
              repository: run.repository,
              commit: run.commit,
              step: 's',
              runId: run.id,
              node: name,
              image: 'busybox',
              imageDigest: null,
              command: ['true'],
              parameters: {},
              inputs: [],
              outputs: [],
              metrics: {},
              status: 'started',
              runtime: 'docker',
              host: 'race',
              attempt,
              createdAt: new Date().toISOString(),
            });
          const nodeEvent = async (
            who: number,
            name: string,
            event: NodeEvent,
            from?: RunNodeState,
            runIn?: typeof CLAIMABLE_RUN_STATUSES,
          ) => {
            const view = from ?? views.get(`${who}/${name}`);
            if (!view) return;
            const result = await applyNodeEvent(deps, {
              run,
              graph,
              from: view,
              event,
              execution: draft(name),
              ...(runIn ? { runIn } : {}),
            });
            if (result.applied) views.set(`${who}/${name}`, result.node);
          };
          const play = async (act: Action) => {
            if (act.kind === 'cancel')
              return void (await cancelRun(deps, {
                runId: run.id,
                reason: 'cancelled',
              }));
            if (act.kind === 'supersede') {
              return void (await applyRunEvent(deps, {
                runId: run.id,
                event: { type: 'superseded', reason: 'superseded', by: 'r2' },
              }));
            }
            const name = NODES[act.node] as string;
            const view = views.get(`${act.worker}/${name}`);
            if (act.kind === 'claim') {
              const job = [...jobs]
                .reverse()
                .find((item) => item.node === name);
              if (!job) return;
              const queued: RunNodeState = {
                name,
                step: 's',
                index: job.nodeIndex,
                status: 'queued',
                attempt: job.attempt,
                generation: job.generation,
              };
              return nodeEvent(
                act.worker,
                name,
                {
                  type: 'claim',
                  worker: `w${act.worker}`,
                  generation: job.generation,
                  phase: 'pulling',
                },
                queued,
                CLAIMABLE_RUN_STATUSES,
              );
            }
            const attempt = view?.attempt ?? 0;
            if (act.kind === 'phase')
              return nodeEvent(act.worker, name, {
                type: 'phase',
                attempt,
                phase: act.phase,
              });
            if (act.kind === 'finish') {
              return nodeEvent(act.worker, name, {
                type: 'finished',
                attempt,
                outcome: act.outcome,
                message: act.outcome,
              });
            }
            return nodeEvent(act.worker, name, {
              type: 'infra-failure',
              attempt,
              message: 'engine gone',
              retry: act.retry,
            });
          };
          for (const step of steps) await Promise.all(step.map(play));

          // Replay the run's events and check every change.
          const events = await stores.runs.readRunEvents(run.id, {
            count: 10_000,
          });
          const status = new Map<string, string>(
            NODES.map((name) => [name, 'pending']),
          );
          const attempts = new Map<string, number>(
            NODES.map((name) => [name, 0]),
          );
          let runStatus = 'created';
          for (const { event } of events) {
            if (event.kind === 'run') {
              if (event.status !== runStatus) {
                expect(
                  LEGAL_RUN[runStatus] ?? [],
                  `run ${runStatus} → ${event.status}`,
                ).toContain(event.status);
              }
              runStatus = event.status;
              continue;
            }
            seen.changes += 1;
            if (
              event.kind === 'node' &&
              event.status === 'started' &&
              status.get(event.node) === 'started' &&
              event.attempt > (attempts.get(event.node) ?? 0)
            ) {
              seen.takeovers += 1;
            }
            const names = event.kind === 'node' ? [event.node] : event.nodes;
            for (const name of names) {
              const from = status.get(name) as string;
              expect(
                LEGAL_NODE[from] ?? [],
                `${name}: ${from} → ${event.status}`,
              ).toContain(event.status);
              status.set(name, event.status);
              if (event.kind === 'node') {
                expect(
                  event.attempt,
                  `${name}: attempt went back`,
                ).toBeGreaterThanOrEqual(attempts.get(name) ?? 0);
                attempts.set(name, event.attempt);
              }
            }
          }
          // What was replayed is what is stored.
          const stored = await stores.runs.getRun(run.id);
          expect(stored?.status).toBe(
            runStatus === 'created' ? stored?.status : runStatus,
          );
          for (const item of stored?.nodes ?? [])
            expect(item.status, item.name).toBe(status.get(item.name));
          if (
            stored &&
            isFinalRunStatus(stored.status) &&
            ['cancelled', 'error', 'stopped'].includes(stored.status)
          ) {
            for (const item of stored.nodes)
              expect(
                isTerminalNode(item.status),
                `${item.name} after the run ended`,
              ).toBe(true);
          }
        }),
        { numRuns: 60 },
      );
    }, 300_000);
  },
);
