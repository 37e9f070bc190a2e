/**
 * What the pull-request report says of a sweep, built from real Redis
 * stores: the task node stands for its best child, compared with the best
 * child of the same sweep on the base branch, and the comment has a line
 * per sweep instead of a row per child.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlDeps } from '../../../src/control/control-deps.js';
import { createRun } from '../../../src/control/create-run.js';
import { buildRunReport } from '../../../src/reporter/build-run-report.js';
import { loadMetricCurves } from '../../../src/control/load-metric-curves.js';
import { renderRunChart } from '../../../src/control/render-run-chart.js';
import {
  readSweeps,
  viewByBestChild,
} from '../../../src/control/read-sweeps.js';
import { createStores } from '../../../src/store/index.js';
import { driveSweep } from '../../helpers/drive-sweep.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

function config(items: number[]): string {
  return `
- step:
    name: train
    image: busybox
    command: train {parameters}
    parameters: [{name: width, type: integer, default: 1}]
- report:
    metrics:
      - {name: loss, goal: minimize}
- task:
    name: sweep
    step: train
    parameters:
      - {name: width, style: multiple, rules: {items: [${items.join(', ')}]}}
`;
}

const BASE_SHA = 'b'.repeat(40);

describe.skipIf(!haveRedis())('a sweep in the pull-request report', () => {
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

  it("compares the sweep's best child with the base branch's best", async () => {
    const stores = createStores(redis, { prefix: `t-${randomUUID()}` });
    const control: ControlDeps = {
      runs: stores.runs,
      executions: stores.executions,
      configs: stores.configs,
      steps: { async enqueue() {}, async close() {} },
      logger: pino({ level: 'silent' }),
    };
    const start = (options: {
      commit: string;
      ref: string;
      text: string;
      pr?: boolean;
    }) =>
      createRun(control, {
        repository: 'acme/models',
        source: { id: 'acme/models', url: '/nowhere' },
        commit: options.commit,
        ref: options.ref,
        name: 'sweep',
        configText: options.text,
        configFile: 'kiln.yaml',
        ...(options.pr
          ? {
              trigger: {
                event: 'pull_request',
                pullRequest: 9,
                baseRef: 'refs/heads/main',
                baseSha: BASE_SHA,
              },
            }
          : {}),
      });
    // loss = |width − 6|: main sweeps 2, 4 (best 2); the branch adds 6 and 8.
    const metricsOf = (parameters: Record<string, unknown>) => ({
      loss: Math.abs((parameters.width as number) - 6),
    });
    // Each child's loss falls to its final value over 5 steps.
    const curve = (final: Record<string, number>, step: number) => ({
      step,
      loss: (final.loss ?? 0) + 5 - step,
    });
    await driveSweep(control, {
      run: await start({
        commit: BASE_SHA,
        ref: 'refs/heads/main',
        text: config([2, 4]),
      }),
      task: 'sweep',
      metricsOf,
      curve,
    });
    const head = await driveSweep(control, {
      run: await start({
        commit: 'c'.repeat(40),
        ref: 'refs/pull/9/head',
        text: config([2, 4, 6, 8]),
        pr: true,
      }),
      task: 'sweep',
      metricsOf,
      curve,
    });

    const report = await buildRunReport(
      {
        redis,
        keys: stores.keys,
        configs: stores.configs,
        runs: stores.runs,
        executions: stores.executions,
        publicUrl: 'https://kiln.example.com',
      },
      head,
    );

    expect(report.comparisons).toEqual([
      expect.objectContaining({ name: 'loss', head: 0, base: 2 }),
    ]);
    expect(report.body).toContain('#### Sweeps');
    expect(report.body).toContain(
      "- **sweep** (complete): best of 4: sweep\\#3 with loss 0 · main's best of 2: 2 (better)",
    );
    // One row for the task, none per child or join.
    // …linked to the task's page (the run page does not list children).
    expect(report.body).toContain(
      `| [sweep](https://kiln.example.com/runs/${head.id}/tasks/sweep) | complete`,
    );
    expect(report.body).not.toContain('#execution-');

    // The curves image: the best child's loss against main's best child's,
    // not whichever child printed last.
    const chart = new URL(report.chartUrl ?? 'https://none');
    expect(chart.pathname).toBe(`/charts/${head.id}.svg`);
    const image = await renderRunChart(
      control,
      head.id,
      chart.searchParams.get('base') ?? undefined,
    );
    expect(image?.svg).toContain('loss · sweep<');
    expect(image?.svg).not.toContain('sweep#');
    const curves = await loadMetricCurves({
      executions: stores.executions,
      run: viewByBestChild(head, await readSweeps(control, head)),
    });
    expect(curves[0]?.head.at(-1)).toEqual([5, 0]);
    expect(report.body).not.toMatch(/sweep#1 \||sweep@1/);
  });
});
