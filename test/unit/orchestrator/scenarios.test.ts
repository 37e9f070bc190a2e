/**
 * Plays every pipelines/scenarios/*.yaml through the control plane — the
 * code the server and the workers run to decide — on in-memory stores, and
 * checks after each scripted event what kiln decided (README there).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import { applyRunEvent } from '../../../src/control/apply-run-event.js';
import { cancelRun } from '../../../src/control/cancel-run.js';
import { createRun } from '../../../src/control/create-run.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import type { ExecutionRecord } from '../../../src/model/execution.js';
import type {
  NodePhase,
  RunNodeState,
  RunRecord,
} from '../../../src/model/run.js';
import type { NodeEvent } from '../../../src/orchestrator/node-machine.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import { parseTaskNodeName } from '../../../src/orchestrator/task/task-children.js';
import { advanceTask } from '../../../src/control/advance-task.js';
import { expandTask } from '../../../src/control/expand-task.js';
import { createMemoryStores, statusesOf } from '../../helpers/memory-stores.js';

const directory = resolve(import.meta.dirname, '../../../pipelines/scenarios');
const files = readdirSync(directory)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

interface Expectation {
  run?: string;
  nodes?: Record<string, string>;
  jobs?: string[];
  stops?: string[];
  ignored?: boolean;
}

type Step = Record<string, unknown> & { expect?: Expectation };

interface Scenario {
  run: string;
  hold?: string;
  start?: Expectation;
  script: Step[];
}

function draft(run: RunRecord, node: string, parameters: unknown = {}) {
  return (
    executionId: string,
    attempt: number,
  ): Omit<ExecutionRecord, 'counter'> => ({
    id: executionId,
    repository: run.repository,
    commit: run.commit,
    step: node,
    runId: run.id,
    node,
    image: 'busybox',
    imageDigest: null,
    command: ['true'],
    parameters: parameters as Record<string, unknown>,
    inputs: [],
    outputs: [],
    metrics: {},
    status: 'started',
    runtime: 'docker',
    host: 'test',
    attempt,
    createdAt: '2026-12-06T10:00:00.000Z',
  });
}

describe('run scenarios', () => {
  it('has scenarios to play', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files)('%s', async (file) => {
    const text = readFileSync(join(directory, file), 'utf8');
    const [configText, scriptText] = text.split(/^---$/m);
    const scenario = parse(scriptText ?? '') as Scenario;
    const stores = createMemoryStores();
    const deps = stores.deps();
    const run = await createRun(deps, {
      repository: 'acme/models',
      source: { id: 'acme/models', url: '/nowhere' },
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      name: scenario.run,
      configText: configText ?? '',
      configFile: 'kiln.yaml',
      ...(scenario.hold ? { requireApproval: scenario.hold } : {}),
    });
    expect(run.reason ?? '').not.toMatch(/not valid|no pipeline/);
    const { graph } = await loadRunPlan(deps.configs, run);
    /** A task's child runs its task node's step. */
    const stepOf = (name: string) =>
      graph.byName.get(name)?.step ??
      graph.byName.get(parseTaskNodeName(name)?.task ?? '')?.step ??
      '';
    // What each worker believes of the nodes it holds.
    const views = new Map<string, RunNodeState>();
    let jobsSeen = 0;
    let stopsSeen = 0;

    const check = async (
      label: string,
      expectation: Expectation | undefined,
      applied?: boolean,
    ) => {
      const stored = (await stores.runs.getRun(run.id)) as RunRecord;
      const jobs = stores.steps.jobs
        .slice(jobsSeen)
        .map((item) => item.job.node);
      const stops = stores.stops.requests
        .slice(stopsSeen)
        .map((item) => item.node);
      jobsSeen = stores.steps.jobs.length;
      stopsSeen = stores.stops.requests.length;
      if (!expectation) return;
      const where = `${file}: ${label}`;
      if (expectation.run) expect(stored.status, where).toBe(expectation.run);
      if (expectation.nodes) {
        const statuses = statusesOf(stored);
        for (const [name, status] of Object.entries(expectation.nodes)) {
          expect(statuses[name], `${where}: node ${name}`).toBe(status);
        }
      }
      if (expectation.jobs)
        expect(jobs, `${where}: jobs`).toEqual(expectation.jobs);
      if (expectation.stops)
        expect(stops, `${where}: stops`).toEqual(expectation.stops);
      if (expectation.ignored !== undefined && applied !== undefined) {
        expect(!applied, `${where}: ignored`).toBe(expectation.ignored);
      }
    };

    await check('start', scenario.start);
    for (const [index, step] of scenario.script.entries()) {
      const { expect: expectation, ...event } = step;
      const [kind, raw] = Object.entries(event)[0] as [string, unknown];
      const options =
        typeof raw === 'object' && raw !== null
          ? (raw as Record<string, unknown>)
          : { node: raw };
      const node = String(options.node ?? '');
      const worker = String(options.worker ?? 'w1');
      const viewKey = `${worker}/${node}`;
      const changesBefore = stores.changes.length;
      const nodeEvent = async (
        from: RunNodeState | undefined,
        nodeEvent: NodeEvent,
        extra = {},
      ) => {
        const result = await applyNodeEvent(deps, {
          run,
          graph,
          from:
            from ??
            ((await stores.runs.getNodes(run.id, [node]))[0] as RunNodeState),
          event: nodeEvent,
          execution: draft(run, node, options.parameters),
          ...extra,
        });
        if (result.applied) views.set(viewKey, result.node);
        return result.applied;
      };
      let applied: boolean;
      switch (kind) {
        case 'claim': {
          const job = [...stores.steps.jobs]
            .reverse()
            .find((item) => item.job.node === node)?.job;
          if (!job) throw new Error(`${file}: no job queued for ${node}`);
          applied = await nodeEvent(
            {
              name: node,
              step: stepOf(node),
              index: job.nodeIndex,
              status: 'queued',
              attempt: job.attempt,
              generation: job.generation,
            },
            {
              type: 'claim',
              worker,
              generation: job.generation,
              phase: (options.phase as NodePhase) ?? 'running',
            },
            { runIn: CLAIMABLE_RUN_STATUSES },
          );
          break;
        }
        case 'phase':
          applied = await nodeEvent(views.get(viewKey), {
            type: 'phase',
            attempt: views.get(viewKey)?.attempt ?? 0,
            phase: options.phase as NodePhase,
          });
          break;
        case 'finish':
          applied = await nodeEvent(
            views.get(viewKey),
            {
              type: 'finished',
              attempt: views.get(viewKey)?.attempt ?? 0,
              outcome: options.outcome as 'complete' | 'error' | 'stopped',
              message: String(options.outcome),
            },
            {
              close: {
                metrics: (options.metrics ?? {}) as ExecutionRecord['metrics'],
              },
            },
          );
          break;
        case 'expand':
        case 'join': {
          const job = [...stores.steps.jobs]
            .reverse()
            .find((item) => item.job.node === node)?.job;
          if (!job) throw new Error(`${file}: no job queued for ${node}`);
          const parsed = parseTaskNodeName(node);
          const taskNode = graph.byName.get(
            kind === 'join' ? (parsed?.task ?? '') : node,
          );
          if (!taskNode) throw new Error(`${file}: no task node for ${node}`);
          const upstream = new Map<string, ExecutionRecord>();
          for (const name of taskNode.upstream) {
            const [state] = await stores.runs.getNodes(run.id, [name]);
            const record = state?.executionId
              ? await stores.executions.getExecution(state.executionId)
              : null;
            if (record) upstream.set(name, record);
          }
          const taskJob = {
            run,
            plan: await loadRunPlan(deps.configs, run),
            node: taskNode,
            queued: {
              name: node,
              step: kind === 'join' ? '' : (taskNode.step ?? ''),
              index: job.nodeIndex,
              status: 'queued' as const,
              attempt: job.attempt,
              generation: job.generation,
            },
            worker,
            upstream,
          };
          const outcome =
            kind === 'expand'
              ? await expandTask(deps, taskJob)
              : await advanceTask(deps, {
                  ...taskJob,
                  batch: parsed?.number ?? 1,
                });
          applied = outcome !== 'stale';
          break;
        }
        case 'fail':
          applied = await nodeEvent(views.get(viewKey), {
            type: 'failed',
            attempt: views.get(viewKey)?.attempt ?? 0,
            message: 'bad parameter',
          });
          break;
        case 'infra':
          applied = await nodeEvent(views.get(viewKey), {
            type: 'infra-failure',
            attempt: views.get(viewKey)?.attempt ?? 0,
            message: 'engine gone',
            retry: options.retry === true,
          });
          break;
        case 'reused':
          applied = await nodeEvent(views.get(viewKey), {
            type: 'reused',
            attempt: views.get(viewKey)?.attempt ?? 0,
            executionId: 'earlier',
            message: 'reused execution earlier',
          });
          break;
        case 'lost': {
          const [current] = await stores.runs.getNodes(run.id, [node]);
          applied = await nodeEvent(undefined, {
            type: 'lost',
            generation: current?.generation ?? 0,
            message: 'stalled',
          });
          break;
        }
        case 'cancel':
          applied = await cancelRun(deps, {
            runId: run.id,
            reason: String(raw),
          });
          break;
        case 'supersede':
          applied = (
            await applyRunEvent(deps, {
              runId: run.id,
              event: {
                type: 'superseded',
                reason: `superseded by ${String(raw)}`,
                by: String(raw),
              },
            })
          ).applied;
          break;
        case 'approve':
          applied = (
            await applyRunEvent(deps, {
              runId: run.id,
              event: { type: 'approve', approver: String(raw) },
            })
          ).applied;
          break;
        default:
          throw new Error(`${file}: unknown step "${kind}"`);
      }
      if (!applied)
        expect(
          stores.changes.length,
          `${file}: step ${index + 1} changed state though ignored`,
        ).toBe(changesBefore);
      await check(
        `step ${index + 1} (${kind} ${node || String(raw)})`,
        expectation,
        applied,
      );
    }
  });
});
