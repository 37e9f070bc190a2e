/**
 * The UI in a real browser (Debian's chromium through playwright-core)
 * against a real kiln server on real Redis. Screenshots of each page go to
 * test-results/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What page.evaluate callbacks see; this project's TS has no DOM lib.
interface BrowserGlobals {
  document: {
    querySelector(selector: string): {
      textContent: string | null;
      getAttribute(name: string): string | null;
    } | null;
  };
  kilnCharts: Record<string, { data: number[][] } | undefined>;
}
import { haveRedis, requireService } from '../../helpers/services.js';
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

describe.skipIf(!ok)('web UI in chromium', () => {
  let fixture: WebFixture;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    fixture = await startWebFixture();
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
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    await page.goto(`${fixture.url}/runs`);
    await page.waitForURL(/\/login/);
    await page.fill('input[name=token]', fixture.adminToken);
    await page.click('#login button');
    await page.waitForURL(/\/runs$/);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await fixture?.close();
  });

  const line = (seq: number, text: string) => ({
    seq,
    time: new Date().toISOString(),
    stream: 'stdout' as const,
    text,
  });

  it('lists runs and opens a run with its graph, live log and metric chart', async () => {
    // A worker claimed `train`: the run is running, its execution started.
    // The run page draws the graph from the stored configuration.
    const { run, node, executionId } = await fixture.startRun({
      execution: { metrics: { loss: 0.25 } },
    });
    await fixture.control.executions.appendOutput(executionId, {
      lines: [line(0, 'epoch 1 starting')],
      metrics: [1, 2, 3].map((step) => ({
        time: new Date(Date.now() + step).toISOString(),
        values: { step, loss: 1 / step },
      })),
    });

    await page.goto(
      `${fixture.url}/runs?repository=${encodeURIComponent(REPOSITORY)}`,
    );
    await expect(
      page.locator(`tr[data-run="${run.id}"]`).textContent(),
    ).resolves.toContain('running');
    await page.screenshot({ path: `${SCREENSHOTS}/runs.png`, fullPage: true });

    await page.click(`tr[data-run="${run.id}"] a`);
    await page.waitForURL(new RegExp(`/runs/${run.id}$`));
    expect(await page.locator('svg.dag g.dag-node').count()).toBe(2);
    expect(
      await page
        .locator('svg.dag g[data-node="train"]')
        .getAttribute('data-status'),
    ).toBe('started');
    expect(await page.locator('svg.dag line').count()).toBe(1);

    const log = page.locator(`pre[data-log="${executionId}"]`);
    await expect(log.textContent()).resolves.toContain('epoch 1 starting\n');
    // Lines written while the page is open arrive over SSE.
    await fixture.control.executions.appendOutput(executionId, {
      lines: [line(1, 'epoch 2 <b>bold?</b>')],
    });
    await page.waitForFunction(
      (id) =>
        (globalThis as unknown as BrowserGlobals).document
          .querySelector(`pre[data-log="${id}"]`)
          ?.textContent?.includes('epoch 2 <b>bold?</b>'),
      executionId,
    );
    expect(await log.locator('b').count()).toBe(0);

    const data = await page.evaluate((key) => {
      const chart = (globalThis as unknown as BrowserGlobals).kilnCharts[key];
      return chart ? chart.data : null;
    }, `${executionId}:loss`);
    expect(data).toEqual([
      [1, 2, 3],
      [1, 0.5, 1 / 3],
    ]);
    expect(
      await page.locator(`[data-chart="${executionId}:loss"] canvas`).count(),
    ).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}/run.png`, fullPage: true });

    await fixture.finishNode(run, node);
    await page.waitForFunction(
      (id) =>
        (globalThis as unknown as BrowserGlobals).document
          .querySelector(`pre[data-log="${id}"]`)
          ?.getAttribute('data-ended') === 'true',
      executionId,
    );
  });

  it('compares two executions: overlaid curves and the parameter difference', async () => {
    const first = await fixture.seedExecution({
      id: 'e-cmp-1',
      parameters: { learning_rate: 0.1, epochs: 3 },
      metrics: { loss: 0.3 },
    });
    const second = await fixture.seedExecution({
      id: 'e-cmp-2',
      commit: 'd'.repeat(40),
      parameters: { learning_rate: 0.01, epochs: 3 },
      metrics: { loss: 0.2 },
    });
    for (const [record, scale] of [
      [first, 1],
      [second, 2],
    ] as const) {
      await fixture.control.executions.appendOutput(record.id, {
        metrics: [1, 2].map((step) => ({
          time: new Date(Date.now() + step).toISOString(),
          values: { step, loss: scale / step },
        })),
      });
    }
    // Picked from the list of recent executions, across commits.
    await page.goto(`${fixture.url}/compare`);
    await page.check(`#compare-picker input[value="${first.id}"]`);
    await page.check(`#compare-picker input[value="${second.id}"]`);
    await page.click('#compare-picker button');
    await page.waitForURL(/\/compare\?e=/);
    expect(
      await page
        .locator('tr[data-parameter="learning_rate"]')
        .getAttribute('data-differs'),
    ).toBe('true');
    expect(
      await page
        .locator('tr[data-parameter="epochs"]')
        .getAttribute('data-differs'),
    ).toBe('false');
    const data = await page.evaluate(
      () =>
        (globalThis as unknown as BrowserGlobals).kilnCharts['compare:loss']
          ?.data,
    );
    // One curve per execution, over the same steps (the order follows the pick).
    expect(data?.[0]).toEqual([1, 2]);
    expect(data?.slice(1)).toHaveLength(2);
    expect(data?.slice(1)).toEqual(
      expect.arrayContaining([
        [1, 0.5],
        [2, 1],
      ]),
    );
    await page.screenshot({
      path: `${SCREENSHOTS}/compare.png`,
      fullPage: true,
    });
  });

  it('launches from the form with an overridden parameter', async () => {
    await fixture.seedRun();
    await page.goto(
      `${fixture.url}/launch?repository=${encodeURIComponent(REPOSITORY)}&at=main&name=train`,
    );
    const rate = page.locator('input[data-param="learning_rate"]');
    expect(await rate.getAttribute('min')).toBe('0');
    expect(await rate.getAttribute('max')).toBe('1');
    expect(await rate.inputValue()).toBe('0.1');
    expect(
      await page
        .locator('select[data-param="optimizer"] option')
        .allTextContents(),
    ).toEqual(['adam', 'sgd']);
    await rate.fill('0.05');
    await page.selectOption('select[data-param="optimizer"]', 'sgd');
    await page.screenshot({
      path: `${SCREENSHOTS}/launch.png`,
      fullPage: true,
    });
    await page.click('#launch button[type=submit]');
    await page.waitForURL(/\/runs\/r[0-9a-z]+$/);
    const id = page.url().split('/').pop()!;
    const run = await fixture.control.runs.getRun(id);
    expect(run).toMatchObject({
      name: 'train',
      commit: fixture.head,
      parameters: { learning_rate: '0.05', optimizer: 'sgd' },
    });
    expect(run?.status).not.toBe('error');
  });

  it('shows deliveries', async () => {
    await page.goto(`${fixture.url}/deliveries`);
    await expect(page.textContent('main')).resolves.toContain(
      'No webhook deliveries yet',
    );
    await page.screenshot({
      path: `${SCREENSHOTS}/deliveries.png`,
      fullPage: true,
    });
  });

  it('keeps an unauthenticated visitor from launching or cancelling', async () => {
    const run = await fixture.seedRun({ status: 'running' });
    const before = (await fixture.control.runs.listRuns({ limit: 1000 }))
      .length;
    const stranger = await browser.newContext();
    try {
      const visitor = await stranger.newPage();
      await visitor.goto(
        `${fixture.url}/launch?repository=${encodeURIComponent(REPOSITORY)}&at=main&name=train`,
      );
      await visitor.waitForURL(/\/login/);
      await visitor.screenshot({ path: `${SCREENSHOTS}/login.png` });
      const statuses = await visitor.evaluate(async (runId) => {
        const post = (url: string, body: unknown) =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }).then((response) => response.status);
        return [
          await post('/api/runs', {
            repository: 'acme/models',
            ref: 'main',
            name: 'train',
          }),
          await post(`/api/runs/${runId}/cancel`, {}),
        ];
      }, run.id);
      expect(statuses).toEqual([401, 401]);
    } finally {
      await stranger.close();
    }
    expect((await fixture.control.runs.getRun(run.id))?.status).toBe('running');
    expect((await fixture.control.runs.listRuns({ limit: 1000 })).length).toBe(
      before,
    );
  });
});
