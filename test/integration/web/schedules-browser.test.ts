/**
 * The Schedules pages in a real browser (Debian's chromium through
 * playwright-core) against a real kiln server on real Redis: reached from
 * the navigation, each schedule with its next tick and latest ticks (missed
 * ones marked), and a schedule's page with every tick. Screenshots go to
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
import { haveRedis, requireService } from '../../helpers/services.js';
import { seedSchedules, type SeededSchedules } from './seed-schedules.js';
import { startWebFixture, type WebFixture } from './web-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = 'test-results/screenshots';
const ok =
  haveRedis() &&
  requireService(
    'chromium',
    existsSync(CHROMIUM),
    'apt-get install -y chromium',
  );

describe.skipIf(!ok)('the Schedules pages in chromium', () => {
  let fixture: WebFixture;
  let seeded: SeededSchedules;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    fixture = await startWebFixture();
    seeded = await seedSchedules(fixture);
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
    await page.goto(`${fixture.url}/schedules`);
    await page.waitForURL(/\/login/);
    await page.fill('input[name=token]', fixture.viewerToken);
    await page.click('#login button');
    await page.waitForURL(/\/schedules$/);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await seeded?.close();
    await fixture?.close();
  });

  it('lists each schedule with its next tick and latest ticks, missed ones marked', async () => {
    await page.goto(`${fixture.url}/runs`);
    await page.click('nav a[href="/schedules"]');
    await page.waitForURL(/\/schedules$/);

    const nightly = page.locator(`tr[data-schedule="${seeded.nightly}"]`);
    await expect(nightly.locator('td').nth(2).textContent()).resolves.toContain(
      'nightly',
    );
    await expect(
      nightly.locator('td[data-next-tick]').innerText(),
    ).resolves.toMatch(/^\d{4}-\d\d-\d\d \d\d:30:00 UTC\nin \d/);
    const chips = nightly.locator('.sched-tick');
    expect(await chips.count()).toBe(2);
    await expect(chips.nth(0).textContent()).resolves.toBe(
      '2026-03-03 00:30:00 missed 3',
    );
    // Marked: the missed chip is drawn in its own colour.
    const colours = await chips.evaluateAll((nodes) =>
      nodes.map(
        (node) =>
          (
            globalThis as unknown as {
              getComputedStyle(node: unknown): { backgroundColor: string };
            }
          ).getComputedStyle(node).backgroundColor,
      ),
    );
    expect(colours[0]).not.toBe(colours[1]);
    await page.screenshot({
      path: `${SCREENSHOTS}/schedules.png`,
      fullPage: true,
    });
  });

  it("opens a schedule's page with every tick, and a tick's run from there", async () => {
    await page.goto(`${fixture.url}/schedules`);

    await page.click(`tr[data-schedule="${seeded.hourly}"] td:nth-child(3) a`);
    await page.waitForURL(new RegExp(`/schedules/${seeded.hourly}$`));

    const rows = page.locator('table[data-ticks] tbody tr');
    expect(await rows.count()).toBe(2);
    await expect(rows.nth(1).locator('td').nth(4).innerText()).resolves.toBe(
      '2 ticks, 2026-03-05 07:00:00 to 2026-03-05 08:00:00',
    );
    await expect(rows.nth(0).getAttribute('data-outcome')).resolves.toBe(
      'failed',
    );
    await page.screenshot({
      path: `${SCREENSHOTS}/schedule.png`,
      fullPage: true,
    });
    await rows.nth(1).locator('a').click();
    await page.waitForURL(new RegExp(`/runs/${seeded.runIds.late}$`));
  });
});
