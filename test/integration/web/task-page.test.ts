/**
 * A sweep as people see it, on a real server and Redis: the API's task
 * summary (checked against api/openapi.json) and the task page in a real
 * browser — best child, sortable table of children, parallel coordinates
 * and overlaid curves — with the run page linking to it instead of
 * listing every child. Screenshot: test-results/screenshots/task.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun } from '../../../src/control/create-run.js';
import type { RunRecord } from '../../../src/model/run.js';
import { driveSweep } from '../../helpers/drive-sweep.js';
import { applyNodeEvent } from '../../../src/control/apply-node-event.js';
import { expandTask } from '../../../src/control/expand-task.js';
import { loadRunPlan } from '../../../src/control/load-run-plan.js';
import { CLAIMABLE_RUN_STATUSES } from '../../../src/orchestrator/run-machine.js';
import { haveRedis, requireService } from '../../helpers/services.js';
import { responseErrors } from './openapi-check.js';
import { REPOSITORY, startWebFixture, type WebFixture } from './web-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = 'test-results/screenshots';
const ok =
  haveRedis() &&
  requireService(
    'chromium',
    existsSync(CHROMIUM),
    'apt-get install -y chromium',
  );

const CONFIG = `
- step:
    name: train
    image: busybox
    command: python train.py {parameters}
    parameters:
      - {name: lr, type: float, default: 0.1}
      - {name: depth, type: integer, default: 1}
- report:
    metrics:
      - {name: loss, goal: minimize}
- task:
    name: sweep
    step: train
    parameters:
      - {name: lr, style: logspace, rules: {start: -3, end: -1, count: 3}}
      - {name: depth, style: multiple, rules: {items: [2, 4, 8]}}
`;

/** The made-up result of a child: best at lr 0.01, depth 4. */
function lossOf(lr: number, depth: number): number {
  return Number(
    (
      Math.abs(Math.log10(lr) + 2) +
      Math.abs(Math.log2(depth) - 2) / 2 +
      0.1
    ).toFixed(3),
  );
}

describe.skipIf(!ok)('a task in the API and the browser', () => {
  let fixture: WebFixture;
  let browser: Browser;
  let page: Page;
  let run: RunRecord;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    fixture = await startWebFixture();
    run = await sweepRun(fixture);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    await page.goto(`${fixture.url}/login`);
    await page.fill('input[name=token]', fixture.adminToken);
    await page.click('#login button');
    await page.waitForURL(/\/runs$/);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await fixture?.close();
  });

  it('summarises the task in the API, best child included', async () => {
    const response = await fixture.request(`/api/runs/${run.id}/tasks/sweep`, {
      token: fixture.viewerToken,
    });
    const body = (await response.json()) as {
      status: string;
      children: Array<{ name: string; parameters: Record<string, unknown> }>;
      best: { name: string; value: number };
      goal: unknown;
      parameters: string[];
    };

    expect(response.status).toBe(200);
    expect(
      responseErrors({
        path: '/api/runs/{id}/tasks/{node}',
        method: 'get',
        status: 200,
        body,
      }),
    ).toEqual([]);
    expect(body.status).toBe('complete');
    expect(body.children).toHaveLength(9);
    expect(body.parameters).toEqual(['lr', 'depth']);
    expect(body.goal).toEqual({ metric: 'loss', goal: 'minimize' });
    const best = body.children.find((child) => child.name === body.best.name);
    expect(best?.parameters).toEqual({ lr: 0.01, depth: 4 });
    expect(body.best.value).toBe(0.1);

    const list = await fixture.request(`/api/runs/${run.id}/tasks`, {
      token: fixture.viewerToken,
    });
    const listed = await list.json();
    expect(
      responseErrors({
        path: '/api/runs/{id}/tasks',
        method: 'get',
        status: 200,
        body: listed,
      }),
    ).toEqual([]);
    const missing = await fixture.request(`/api/runs/${run.id}/tasks/nope`, {
      token: fixture.viewerToken,
    });
    expect(missing.status).toBe(404);
  });

  it('shows the task page: best child, sortable children, parallel coordinates, curves', async () => {
    await page.goto(`${fixture.url}/runs/${run.id}`);
    await page.click('p.task-link a');
    await page.waitForURL(new RegExp(`/runs/${run.id}/tasks/sweep$`));

    await expect(page.locator('#best-child').textContent()).resolves.toMatch(
      /sweep#\d+ · loss = 0.1/,
    );
    const rows = page.locator('table.children tbody tr');
    expect(await rows.count()).toBe(9);
    // Sorted by the goal at first: the best child on top, highlighted.
    expect(await rows.first().getAttribute('class')).toBe('best');
    // The parallel coordinates: hermes draws one line per child on a canvas.
    await page.waitForSelector('#parcoords[data-lines="9"] canvas');
    // The best child's line (green, thick) is on the canvas: hermes draws
    // once the canvas has its size, so wait for the pixels (with a deadline).
    await page.waitForFunction(
      () => {
        const canvas = document.querySelector(
          '#parcoords canvas',
        ) as PageCanvas | null;
        if (!canvas || canvas.width === 0) return false;
        const context = canvas.getContext('2d');
        if (!context) return false;
        const { data } = context.getImageData(
          0,
          0,
          canvas.width,
          canvas.height,
        );
        let green = 0;
        for (let index = 0; index < data.length; index += 4) {
          const [r, g, b, a] = [
            data[index] ?? 0,
            data[index + 1] ?? 0,
            data[index + 2] ?? 0,
            data[index + 3] ?? 0,
          ];
          if (a > 0 && g > 2 * r && g > 2 * b) green += 1;
        }
        return green > 100;
      },
      undefined,
      { timeout: 10_000 },
    );
    await page.waitForFunction(
      () => document.querySelector('.chart canvas') !== null,
    );
    await page.screenshot({ path: `${SCREENSHOTS}/task.png`, fullPage: true });

    await page.click('table.children th a:text-is("depth")');
    await page.waitForURL(/sort=p%3Adepth&dir=asc/);
    const depths = await page
      .locator('table.children tbody tr td:nth-child(4)')
      .allTextContents();
    expect(depths).toEqual(['2', '2', '2', '4', '4', '4', '8', '8', '8']);
    await page.click('table.children th a:text-is("depth ▲")');
    await page.waitForURL(/sort=p%3Adepth&dir=desc/);
    const reversed = await page
      .locator('table.children tbody tr td:nth-child(4)')
      .allTextContents();
    expect(reversed[0]).toBe('8');
  });

  it('keeps children that start while the run page is open off it', async () => {
    const created = await createRun(fixture.control, {
      repository: REPOSITORY,
      source: { id: REPOSITORY, url: fixture.repoDir },
      commit: fixture.head,
      name: 'sweep',
      configText: CONFIG,
      configFile: 'kiln.yaml',
    });
    const plan = await loadRunPlan(fixture.control.configs, created);
    const [task] = await fixture.control.runs.getNodes(created.id, ['sweep']);
    await expandTask(fixture.control, {
      run: created,
      plan,
      node: plan.graph.byName.get('sweep')!,
      queued: task!,
      worker: 'w1',
      upstream: new Map(),
    });
    await page.goto(`${fixture.url}/runs/${created.id}`);

    const [child] = await fixture.control.runs.getNodes(created.id, [
      'sweep#1',
    ]);
    const claim = await applyNodeEvent(fixture.control, {
      run: created,
      graph: plan.graph,
      from: child!,
      event: { type: 'claim', worker: 'w1', generation: 1, phase: 'running' },
      runIn: CLAIMABLE_RUN_STATUSES,
    });
    expect(claim.applied).toBe(true);
    // The run's status change comes over the same stream, after the child's.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-run-status]')?.textContent === 'running',
    );

    expect(await page.locator('section.execution').count()).toBe(0);
  });

  it('lists no child on the run page', async () => {
    await page.goto(`${fixture.url}/runs/${run.id}`);

    expect(await page.locator('section.execution').count()).toBe(0);
    expect(await page.locator('svg.dag g.dag-node').count()).toBe(1);
    // The task node's row stands for its best child and links all of them.
    const row = page.locator('table.steps tr[data-node="sweep"]');
    expect(await page.locator('table.steps tr[data-node]').count()).toBe(1);
    await expect(row.textContent()).resolves.toMatch(
      /sweep#\d+\s+best child · all children/,
    );
    expect(
      await row.locator('a:text-is("all children")').getAttribute('href'),
    ).toBe(`/runs/${run.id}/tasks/sweep`);
    await expect(
      page.locator('#metrics tr[data-metric="loss"]').textContent(),
    ).resolves.toContain('0.1');

    // The runs list: one square for the task node, no child's metrics.
    await page.goto(`${fixture.url}/runs`);
    const listed = page.locator(`tr[data-run="${run.id}"]`);
    expect(await listed.locator('.strip i').count()).toBe(1);
    await expect(listed.textContent()).resolves.not.toMatch(/loss=/);
  });
});

// What page.waitForFunction callbacks see; this project's TS has no DOM lib.
/** What the page scripts below use of the browser (no DOM types here). */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(
      x: number,
      y: number,
      width: number,
      height: number,
    ): { data: Uint8ClampedArray };
  } | null;
}
declare const document: {
  querySelector(
    selector: string,
  ): ({ textContent: string | null } & Partial<PageCanvas>) | null;
};

/** A finished 3×3 sweep, driven through the control plane as workers would. */
async function sweepRun(fixture: WebFixture): Promise<RunRecord> {
  const created = await createRun(fixture.control, {
    repository: REPOSITORY,
    source: { id: REPOSITORY, url: fixture.repoDir },
    commit: fixture.head,
    name: 'sweep',
    configText: CONFIG,
    configFile: 'kiln.yaml',
  });
  const stored = await driveSweep(fixture.control, {
    run: created,
    task: 'sweep',
    metricsOf: (parameters) => ({
      step: 5,
      loss: lossOf(parameters.lr as number, parameters.depth as number),
    }),
    curve: (final, step) => ({
      step,
      loss: Number(((final.loss as number) + 2 / step - 0.4).toFixed(3)),
    }),
  });
  if (stored.status !== 'complete')
    throw new Error(`sweep run is ${stored.status}`);
  return stored;
}
