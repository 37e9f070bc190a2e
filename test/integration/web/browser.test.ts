/**
 * The UI in a real browser (Debian's chromium through playwright-core)
 * against a real kiln server on real Redis, runs driven through the
 * control plane as workers drive them. Screenshots of each page go to
 * test-results/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunReport } from '../../../src/reporter/build-run-report.js';
import type { LogLine } from '../../../src/model/log-line.js';
import { haveRedis, requireService } from '../../helpers/services.js';
import {
  executionIdOf,
  KILN_YAML,
  REPOSITORY,
  startWebFixture,
  type WebFixture,
} from './web-fixture.js';

// What page.evaluate callbacks see; this project's TS has no DOM lib.
interface BrowserGlobals {
  document: {
    querySelector(selector: string): {
      textContent: string | null;
      getAttribute(name: string): string | null;
    } | null;
    documentElement: { scrollWidth: number; clientWidth: number };
  };
  kilnCharts: Record<string, { data: number[][] } | undefined>;
  axe: {
    run(options: unknown): Promise<{
      violations: Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: string[] }>;
      }>;
    }>;
  };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = (require('axe-core') as { source: string }).source;
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = 'test-results/screenshots';
const ok =
  haveRedis() &&
  requireService(
    'chromium',
    existsSync(CHROMIUM),
    'apt-get install -y chromium',
  );

const REPORT_YAML = `${KILN_YAML}- report:
    metrics:
      - name: accuracy
        goal: maximize
        fail-if-regresses-by: 0.02
      - name: f1
        goal: maximize
`;

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
      viewport: { width: 1440, height: 900 },
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

  const line = (seq: number, text: string): LogLine => ({
    seq,
    time: new Date().toISOString(),
    stream: 'stdout',
    text,
  });
  const point = (values: Record<string, number>, offset = 0) => ({
    time: new Date(Date.now() + offset).toISOString(),
    values,
  });
  const chartData = (key: string) =>
    page.evaluate(
      (name) =>
        (globalThis as unknown as BrowserGlobals).kilnCharts[name]?.data ??
        null,
      key,
    );
  const text = (selector: string) =>
    page.evaluate(
      (css) =>
        (globalThis as unknown as BrowserGlobals).document.querySelector(css)
          ?.textContent ?? null,
      selector,
    );

  it('shows every change of a run as it happens, and its end within a second', async () => {
    // A worker claimed `train`: the run is running.
    const { run, node, executionId } = await fixture.startRun();
    await page.goto(`${fixture.url}/runs/${run.id}`);
    await page.waitForSelector('#run-live[data-connected="true"]', {
      state: 'attached',
    });
    expect(await text('[data-run-status]')).toBe('running');

    // Log lines and metric points arrive while the page is open.
    await fixture.control.executions.appendOutput(executionId, {
      lines: [line(0, 'epoch 1'), line(1, 'epoch 2 <b>not bold</b>')],
      metrics: [point({ step: 1, loss: 1 }), point({ step: 2, loss: 0.5 }, 1)],
    });
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as BrowserGlobals).kilnCharts.loss?.data[0]
          ?.length ?? 0) === 2,
    );
    expect(await chartData('loss')).toEqual([
      [1, 2],
      [1, 0.5],
    ]);
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector('[data-tail]')
        ?.textContent?.includes('epoch 2 <b>not bold</b>'),
    );
    await fixture.control.executions.appendOutput(executionId, {
      lines: [line(2, 'epoch 3')],
      metrics: [point({ step: 3, loss: 0.25 }, 2)],
    });
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as BrowserGlobals).kilnCharts.loss?.data[0]
          ?.length ?? 0) === 3,
    );

    // train ends with an output; evaluate is queued, then claimed.
    await fixture.finishNode(run, node, 'complete', {
      outputs: [
        {
          path: 'model.bin',
          size: 2048,
          sha256: 'e'.repeat(64),
          tags: [],
          datum: 'datum://d-live-1',
        },
      ],
      metrics: { loss: 0.25 },
    });
    await page.waitForSelector(
      'svg.dag g[data-node="train"][data-status="complete"]',
    );
    await page.waitForSelector(
      'svg.dag g[data-node="evaluate"][data-status="queued"]',
    );
    await page.waitForSelector('#outputs tr[data-output="model.bin"]');
    const evaluate = await fixture.claimNode(run.id, 'evaluate');
    await page.waitForSelector(
      'svg.dag g[data-node="evaluate"][data-status="started"]',
    );
    await page.waitForSelector(
      `#steps a[href="/executions/${evaluate.executionId}"]`,
    );
    await fixture.control.executions.appendOutput(evaluate.executionId, {
      lines: [line(0, 'evaluating')],
      metrics: [
        point({ step: 1, accuracy: 0.8 }),
        point({ step: 2, accuracy: 0.9 }, 1),
      ],
    });
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as BrowserGlobals).kilnCharts.accuracy?.data[0]
          ?.length ?? 0) === 2,
    );
    await page.screenshot({
      path: `${SCREENSHOTS}/run-live.png`,
      fullPage: true,
    });

    // The end: the page says so within a second, without a reload.
    const started = Date.now();
    await fixture.finishNode(run, evaluate.node, 'complete', {
      metrics: { accuracy: 0.9 },
    });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as BrowserGlobals).document.querySelector(
          '[data-run-status]',
        )?.textContent === 'complete' &&
        ((globalThis as unknown as BrowserGlobals).document
          .querySelector('#attention')
          ?.textContent?.includes('Complete') ??
          false) &&
        (globalThis as unknown as BrowserGlobals).document.querySelector(
          '#steps tr[data-node="evaluate"] [data-node-status]',
        )?.textContent === 'complete',
      undefined,
      { timeout: 1000 },
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await text('#metrics tr[data-metric="accuracy"]')).toContain('0.9');
    expect(await page.locator('button[data-action$="/cancel"]').count()).toBe(
      0,
    );
    await page.screenshot({
      path: `${SCREENSHOTS}/run-ended.png`,
      fullPage: true,
    });
  });

  it('keeps an execution page live: log lines, metric points and its end', async () => {
    const { run, node, executionId } = await fixture.startRun();
    await page.goto(`${fixture.url}/executions/${executionId}`);
    await page.waitForSelector('#execution-live[data-connected="true"]', {
      state: 'attached',
    });
    await fixture.control.executions.appendOutput(executionId, {
      lines: [line(0, 'first'), line(1, '\x1b[32mgreen\x1b[0m')],
      metrics: [
        point({ epoch: 1, loss: 0.9 }),
        point({ epoch: 2, loss: 0.3 }, 1),
      ],
    });
    await page.waitForSelector('[data-log-lines] [data-seq="1"] .ansi-fg-2');
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as BrowserGlobals).kilnCharts.loss?.data[0]
          ?.length ?? 0) === 2,
    );
    const started = Date.now();
    await fixture.finishNode(run, node, 'error');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as BrowserGlobals).document.querySelector(
          '[data-execution-status]',
        )?.textContent === 'error' &&
        ((globalThis as unknown as BrowserGlobals).document
          .querySelector('#execution-end')
          ?.textContent?.includes('exit code 1') ??
          false),
      undefined,
      { timeout: 1000 },
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("keeps a running step's last lines in order when the page goes live", async () => {
    const { run, executionId } = await fixture.startRun();
    await fixture.control.executions.appendOutput(executionId, {
      lines: Array.from({ length: 40 }, (_, seq) => line(seq, `line ${seq}`)),
    });
    await page.goto(`${fixture.url}/runs/${run.id}`);
    await page.waitForSelector('#run-live[data-connected="true"]', {
      state: 'attached',
    });
    await fixture.control.executions.appendOutput(executionId, {
      lines: [line(40, 'line 40')],
    });
    const tail = page.locator(`[data-tail="${executionId}"] [data-seq]`);
    await expect
      .poll(() => tail.last().getAttribute('data-seq'), { timeout: 10_000 })
      .toBe('40');
    const seqs = (
      await tail.evaluateAll((rows) =>
        rows.map(
          (row) => (row as unknown as { dataset: { seq: string } }).dataset.seq,
        ),
      )
    ).map(Number);
    // The stream's first lines reach further back than the page: none of
    // them may land after the newest.
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('opens a failed run on its error: exit code and last lines without scrolling', async () => {
    const run = await fixture.seedRun(
      { status: 'error' },
      {
        executions: {
          train: {
            status: 'error',
            endReason: { kind: 'exited', exitCode: 2 },
          },
        },
      },
    );
    const id = executionIdOf(run, 'train');
    await fixture.control.executions.appendOutput(id, {
      lines: [
        ...Array.from({ length: 60 }, (_, seq) => line(seq, `step ${seq}`)),
        line(60, 'Traceback (most recent call last):'),
        line(61, '\x1b[31mValueError: C must be positive\x1b[0m'),
      ],
    });
    await page.goto(`${fixture.url}/runs/${run.id}`);
    const panel = page.locator('[data-focus="train"]');
    await expect(panel.textContent()).resolves.toContain('exit code 2');
    const error = panel.locator('.log-line', { hasText: 'ValueError' });
    const box = await error.boundingBox();
    expect(box).not.toBeNull();
    // Inside the 1440×900 window as the page opens.
    expect(box!.y).toBeGreaterThan(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(900);
    expect(await error.locator('.ansi-fg-1').count()).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}/run-failed.png` });
  });

  it('reaches the first line of a 20,000-line log, renders it as a terminal does, and searches it', async () => {
    const run = await fixture.seedRun({}, { executions: { train: {} } });
    const id = executionIdOf(run, 'train');
    const total = 20_000;
    for (let start = 0; start < total; start += 5000) {
      await fixture.control.executions.appendOutput(id, {
        lines: Array.from({ length: 5000 }, (_, index) => {
          const seq = start + index;
          if (seq === 5) return line(seq, '::group::Install dependencies');
          if (seq === 9) return line(seq, '::endgroup::');
          if (seq === 19_990)
            return line(seq, '  0%|   \r 50%|#  \r100%|##########');
          return line(seq, `log line ${seq}`);
        }),
      });
    }
    await page.goto(`${fixture.url}/executions/${id}`);
    await page.waitForSelector(`[data-seq="${total - 1}"]`);
    expect(await page.locator('[data-seq="0"]').count()).toBe(0);
    // A progress bar shows where it ended.
    expect(await page.locator(`[data-seq="19990"] .tx`).textContent()).toBe(
      '100%|##########',
    );

    await page.click('[data-log-top]');
    const first = page.locator('[data-log-lines] [data-seq="0"]');
    await first.waitFor();
    expect(await first.locator('.tx').textContent()).toBe('log line 0');
    expect(await first.isVisible()).toBe(true);
    // The group is folded until opened.
    const group = page.locator('details.log-group');
    expect(await group.count()).toBe(1);
    expect(await group.getAttribute('open')).toBeNull();
    expect(await group.locator('summary').textContent()).toContain(
      'Install dependencies',
    );

    await page.fill('[data-log-search]', 'log line 12345');
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector('[data-log-count]')
        ?.textContent?.includes('1 of 1'),
    );
    expect(
      await page.locator('.log-line.hit-current').getAttribute('data-seq'),
    ).toBe('12345');
    await page.check('[data-log-times]');
    expect(await page.locator('.log-line .ts').first().isVisible()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/execution-log.png` });
  });

  it("shows a pull request run's comparison as the PR comment does", async () => {
    const key = await fixture.stores.configs.store(REPORT_YAML);
    const config = { file: 'kiln.yaml', key };
    await fixture.seedRun(
      { config, ref: 'refs/heads/main' },
      {
        executions: {
          train: { parameters: { learning_rate: 0.1, epochs: 3 } },
          evaluate: { metrics: { accuracy: 0.95, f1: 0.9 } },
        },
      },
    );
    const pr = await fixture.seedRun(
      {
        config,
        ref: 'refs/pull/3/head',
        trigger: {
          event: 'pull_request',
          pullRequest: 3,
          sender: 'octocat',
          baseRef: 'refs/heads/main',
          headRef: 'tune-c',
        },
      },
      {
        executions: {
          train: { parameters: { learning_rate: 0.01, epochs: 3 } },
          evaluate: { metrics: { accuracy: 0.9, f1: 0.91 } },
        },
      },
    );
    const report = await buildRunReport(
      {
        redis: fixture.deps.redis,
        keys: fixture.stores.keys,
        configs: fixture.stores.configs,
        runs: fixture.stores.runs,
        executions: fixture.stores.executions,
      },
      pr,
    );
    await page.goto(`${fixture.url}/runs/${pr.id}`);
    const rows = await page.$$eval('table.comparison tbody tr', (list) =>
      list.map((row) =>
        [...row.children].map((cell) => (cell.textContent ?? '').trim()),
      ),
    );
    // The same numbers and verdicts as the comment's table.
    for (const item of report.comparisons) {
      const row = rows.find((cells) => cells[0] === item.name);
      expect(row, item.name).toBeDefined();
      const commentRow = report.body
        .split('\n')
        .find((text) => text.startsWith(`| ${item.name} |`))!;
      const [, , base, head, delta] = commentRow
        .split('|')
        .map((cell) => cell.trim());
      expect(row![2]).toBe(base);
      expect(row![3]).toBe(head);
      expect(row![4].replace(/\s+/g, ' ')).toBe(delta);
    }
    expect(report.body).toContain(
      'Regressions beyond what the `report` allows',
    );
    await expect(page.textContent('#comparison')).resolves.toContain(
      'Gate failed',
    );
    await expect(page.textContent('#comparison')).resolves.toContain(
      'accuracy 0.9 is 0.05 below main (allowed 0.02)',
    );
    expect(
      await page
        .locator('tr[data-parameter="train.learning_rate"]')
        .textContent(),
    ).toMatch(/0\.1\s+0\.01/);
    await page.screenshot({ path: `${SCREENSHOTS}/run-pr.png` });
  });

  it('links lineage both ways: an output to who read it, an input to who made it', async () => {
    const run = await fixture.seedRun(
      {},
      {
        executions: {
          train: {
            outputs: [
              {
                path: 'model.pkl',
                size: 10,
                sha256: 'f'.repeat(64),
                tags: [],
                datum: 'datum://d-lineage-1',
              },
            ],
          },
          evaluate: {
            inputs: [
              {
                input: 'model',
                name: 'model.pkl',
                uri: 'datum://d-lineage-1',
                size: 10,
                sha256: 'f'.repeat(64),
              },
            ],
          },
        },
      },
    );
    const train = executionIdOf(run, 'train');
    const evaluate = executionIdOf(run, 'evaluate');
    await fixture.control.executions.registerDatum({
      id: 'd-lineage-1',
      sha256: 'f'.repeat(64),
      size: 10,
      path: 'model.pkl',
      executionId: train,
      repository: REPOSITORY,
    });
    // A later run's execution read it too (recorded as a worker does).
    const later = await fixture.seedExecution({
      id: 'e-lineage-later',
      step: 'evaluate',
      inputs: [
        {
          input: 'model',
          name: 'model.pkl',
          uri: 'datum://d-lineage-1',
          size: 10,
          sha256: 'f'.repeat(64),
        },
      ],
    });
    await fixture.control.executions.recordConsumers(later.id, ['d-lineage-1']);

    await page.goto(`${fixture.url}/executions/${train}`);
    const consumers = page.locator(
      'tr[data-output="model.pkl"] [data-consumers] a',
    );
    expect(
      await consumers.evaluateAll((links) =>
        links.map((link) => link.getAttribute('href')),
      ),
    ).toEqual(
      expect.arrayContaining([
        `/executions/${evaluate}`,
        `/executions/${later.id}`,
      ]),
    );
    await page.click(
      `tr[data-output="model.pkl"] a[href="/executions/${evaluate}"]`,
    );
    await page.waitForURL(new RegExp(`/executions/${evaluate}$`));
    await page.click(`tr[data-input="model/model.pkl"] [data-producer] a`);
    await page.waitForURL(new RegExp(`/executions/${train}$`));
    await page.screenshot({
      path: `${SCREENSHOTS}/lineage.png`,
      fullPage: true,
    });
  });

  it('copies a run as new with an edited parameter and a command preview', async () => {
    const run = await fixture.seedRun({}, { executions: { train: {} } });
    await page.goto(`${fixture.url}/launch?from=${run.id}`);
    const rate = page.locator('input[data-param="train.learning_rate"]');
    expect(await rate.inputValue()).toBe('0.1');
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector('#launch-preview')
        ?.textContent?.includes('--learning_rate=0.1'),
    );
    await rate.fill('0.05');
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector('#launch-preview')
        ?.textContent?.includes('--learning_rate=0.05'),
    );
    await page.screenshot({ path: `${SCREENSHOTS}/copy-as-new.png` });
    await page.click('#launch button[type=submit]');
    await page.waitForURL(/\/runs\/r[0-9a-z]+$/);
    const created = await fixture.control.runs.getRun(
      page.url().split('/').pop()!,
    );
    expect(created).toMatchObject({
      name: 'train-evaluate',
      commit: run.commit,
      parameters: { 'train.learning_rate': '0.05' },
    });
  });

  it('draws series as charts with a step axis and keeps single values as numbers', async () => {
    const run = await fixture.seedRun(
      {},
      { executions: { train: { metrics: { loss: 0.2, accuracy: 0.93 } } } },
    );
    const id = executionIdOf(run, 'train');
    await fixture.control.executions.appendOutput(id, {
      metrics: [
        point({ epoch: 1, loss: 0.8 }),
        point({ epoch: 2, loss: 0.4 }, 1),
        point({ epoch: 3, loss: 0.2 }, 2),
        point({ accuracy: 0.93 }, 3),
      ],
    });
    await page.goto(`${fixture.url}/runs/${run.id}`);
    // The charts are drawn by a module script, after the load event.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Partial<BrowserGlobals>).kilnCharts?.loss !==
        undefined,
    );
    expect(await page.locator('figure[data-chart="loss"]').count()).toBe(1);
    expect(await page.locator('figure[data-chart="accuracy"]').count()).toBe(0);
    expect(await chartData('loss')).toEqual([
      [1, 2, 3],
      [0.8, 0.4, 0.2],
    ]);
    expect(
      await page
        .locator('figure[data-chart="loss"] [data-chart-text]')
        .textContent(),
    ).toContain('loss by epoch');
    expect(await text('#metrics tr[data-metric="accuracy"]')).toContain('0.93');
  });

  it('keeps a comparison of running runs live', async () => {
    const done = await fixture.seedRun({}, { executions: { train: {} } });
    const { run, node } = await fixture.startRun();
    await page.goto(`${fixture.url}/compare?r=${done.id}&r=${run.id}`);
    await page.waitForSelector('#compare-region[data-connected="true"]', {
      state: 'attached',
    });
    const state = () =>
      page
        .locator('table.aligned tr[data-node="train"][data-row="state"] td')
        .nth(2)
        .textContent();
    expect(await state()).toContain('started');
    await fixture.finishNode(run, node, 'complete', { metrics: { loss: 0.5 } });
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector(
          'table.aligned tr[data-node="train"][data-metric="loss"]',
        )
        ?.textContent?.includes('0.5'),
    );
    expect(await state()).toContain('complete');
  });

  it('keeps the runs list live and finds pull requests by branch and commits by short SHA', async () => {
    await page.goto(`${fixture.url}/runs`);
    await page.waitForSelector('[data-live-runs][data-connected="true"]', {
      state: 'attached',
    });
    const fresh = await fixture.seedRun({ status: 'queued' });
    await page.waitForSelector(`tr[data-run="${fresh.id}"]`);
    await fixture.claimNode(fresh.id, 'train');
    await page.waitForSelector(`tr[data-run="${fresh.id}"] .strip i.s-started`);
    expect(await text(`tr[data-run="${fresh.id}"] [data-run-status]`)).toBe(
      'running',
    );

    const pr = await fixture.seedRun({
      ref: 'refs/pull/9/head',
      trigger: {
        event: 'pull_request',
        pullRequest: 9,
        sender: 'octocat',
        baseRef: 'refs/heads/main',
        headRef: 'feature-x',
      },
    });
    await page.goto(`${fixture.url}/runs?branch=feature-x`);
    expect(
      await page
        .locator('tr[data-run]')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run'))),
    ).toEqual([pr.id]);
    await page.goto(`${fixture.url}/runs?commit=${fixture.head.slice(0, 7)}`);
    expect(await page.locator(`tr[data-run="${pr.id}"]`).count()).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}/runs.png` });
  });

  it('has no horizontal scroll at 390 px and no serious accessibility violation on any page', async () => {
    const key = await fixture.stores.configs.store(REPORT_YAML);
    const base = await fixture.seedRun(
      { config: { file: 'kiln.yaml', key } },
      { executions: { train: {}, evaluate: { metrics: { accuracy: 0.9 } } } },
    );
    const failed = await fixture.seedRun(
      {
        status: 'error',
        config: { file: 'kiln.yaml', key },
        ref: 'refs/pull/4/head',
        trigger: {
          event: 'pull_request',
          pullRequest: 4,
          baseRef: 'refs/heads/main',
          headRef: 'long-branch-name-for-a-narrow-screen',
        },
      },
      {
        executions: {
          train: {
            status: 'error',
            endReason: { kind: 'exited', exitCode: 1 },
          },
        },
      },
    );
    const id = executionIdOf(failed, 'train');
    await fixture.control.executions.appendOutput(id, {
      lines: [
        line(0, `a very long line ${'x'.repeat(400)}`),
        line(1, '\x1b[1;31mboom\x1b[0m'),
      ],
    });
    const third = await fixture.seedRun({}, { executions: { train: {} } });
    const pages = [
      '/runs',
      `/runs/${base.id}`,
      `/runs/${failed.id}`,
      `/executions/${id}`,
      '/compare',
      `/compare?r=${base.id}&r=${failed.id}`,
      `/compare?r=${base.id}&r=${failed.id}&r=${third.id}`,
      `/compare?e=${id}&e=${executionIdOf(base, 'train')}`,
      '/launch',
      `/launch?from=${base.id}`,
      '/deliveries',
      '/no-such-page',
    ];
    const contexts = [
      await browser.newContext({
        viewport: { width: 390, height: 844 },
        bypassCSP: true,
      }),
      await browser.newContext({
        viewport: { width: 1440, height: 900 },
        bypassCSP: true,
      }),
    ];
    try {
      for (const narrow of contexts) {
        await narrow.addCookies([
          { name: 'kiln_session', value: fixture.adminToken, url: fixture.url },
        ]);
        const visitor = await narrow.newPage();
        const width = visitor.viewportSize()!.width;
        for (const path of [...pages, '/login']) {
          await visitor.goto(`${fixture.url}${path}`);
          await visitor.waitForLoadState('networkidle').catch(() => undefined);
          const [scrollWidth, clientWidth] = await visitor.evaluate(() => [
            (globalThis as unknown as BrowserGlobals).document.documentElement
              .scrollWidth,
            (globalThis as unknown as BrowserGlobals).document.documentElement
              .clientWidth,
          ]);
          expect(scrollWidth, `${path} at ${width}px`).toBeLessThanOrEqual(
            clientWidth,
          );
          await visitor.evaluate(AXE_SOURCE);
          const result = await visitor.evaluate(() =>
            (globalThis as unknown as BrowserGlobals).axe.run({
              resultTypes: ['violations'],
            }),
          );
          const serious = result.violations
            .filter(
              (item) => item.impact === 'serious' || item.impact === 'critical',
            )
            .map(
              (item) =>
                `${item.id}: ${item.help} (${item.nodes
                  .map((node) => node.target.join(' '))
                  .slice(0, 3)
                  .join(', ')})`,
            );
          expect(serious.join('\n'), `${path} at ${width}px`).toBe('');
          if (width === 390) {
            await visitor.screenshot({
              path: `${SCREENSHOTS}/narrow-${path.replace(/[^a-z0-9]+/gi, '_').slice(0, 40)}.png`,
              fullPage: true,
            });
          }
        }
      }
    } finally {
      for (const item of contexts) await item.close();
    }
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
