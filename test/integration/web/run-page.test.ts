/**
 * The run and execution pages over plain HTTP: hostile values come out
 * escaped, a long log opens on its last lines (the viewer pages back), a
 * run's regions render alone for live updates, unknown pages are 404 pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import {
  executionIdOf,
  startWebFixture,
  type WebFixture,
} from './web-fixture.js';

describe.skipIf(!haveRedis())('run page', () => {
  let fixture: WebFixture;
  beforeAll(async () => {
    fixture = await startWebFixture();
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  async function page(path: string): Promise<string> {
    const response = await fixture.request(path, {
      token: fixture.viewerToken,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain(
      "default-src 'self'",
    );
    return response.text();
  }

  it('escapes every value a step or a pusher controls', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const run = await fixture.seedRun(
      {
        name: evil,
        ref: `refs/heads/${evil}`,
        reason: evil,
        parameters: { [evil]: evil },
      },
      {
        executions: {
          train: {
            node: evil,
            command: [evil],
            parameters: { [evil]: evil },
            metrics: { [evil]: evil },
            outputs: [
              {
                path: `${evil}/"q".bin`,
                size: 1,
                sha256: 'a'.repeat(64),
                tags: [],
                datum: `datum://${evil}`,
              },
            ],
          },
        },
      },
    );
    const id = executionIdOf(run, 'train');
    await fixture.control.executions.appendOutput(id, {
      lines: [
        {
          seq: 0,
          time: new Date().toISOString(),
          stream: 'stdout',
          text: `${evil}</pre><script>alert(2)</script>`,
        },
      ],
      metrics: [
        { time: new Date().toISOString(), values: { [`${evil}</script>`]: 1 } },
      ],
    });
    for (const path of [`/runs/${run.id}`, `/executions/${id}`]) {
      const html = await page(path);
      // The step's record (and, on its page, its log) are there, escaped.
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<script>alert');
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      const regions = await page(`${path}?regions=1`);
      expect(regions).toContain('data-region=');
      expect(regions).not.toContain('<img src=x');
    }
    expect(await page(`/executions/${id}`)).toContain(`data-log-view="${id}"`);
    const list = await page(
      `/runs?repository=${encodeURIComponent(run.repository)}`,
    );
    expect(list).not.toContain('<img src=x');
    const compare = await page(`/compare?e=${id}`);
    expect(compare).not.toContain('<img src=x');
  });

  it('shows the last lines of a long log and streams from the last one', async () => {
    const run = await fixture.seedRun({}, { executions: { train: {} } });
    const id = executionIdOf(run, 'train');
    const total = 23_456;
    for (let start = 0; start < total; start += 5000) {
      await fixture.control.executions.appendOutput(id, {
        lines: Array.from(
          { length: Math.min(5000, total - start) },
          (_, index) => ({
            seq: start + index,
            time: new Date().toISOString(),
            stream: 'stdout' as const,
            text: `long line ${start + index}`,
          }),
        ),
      });
    }
    const html = await page(`/executions/${id}`);
    // The viewer opens on the newest 1,000 lines and knows there are more.
    expect(html).toContain(`data-last="${total - 1}"`);
    expect(html).toContain(`data-first="${total - 1000}"`);
    expect(html).toContain('data-has-before="true"');
    expect(html).toMatch(new RegExp(`>long line ${total - 1}</span`));
    expect(html).toMatch(new RegExp(`>long line ${total - 1000}</span`));
    expect(html).not.toMatch(new RegExp(`>long line ${total - 1001}</span`));
    // The API pages back from any line to the first one.
    const back = await fixture.request(
      `/api/executions/${id}/logs?before=${total - 1000}&limit=3`,
      { token: fixture.viewerToken },
    );
    const page1 = (await back.json()) as {
      lines: Array<{ seq: number }>;
      hasBefore: boolean;
    };
    expect(page1.lines.map((line) => line.seq)).toEqual([
      total - 1003,
      total - 1002,
      total - 1001,
    ]);
    expect(page1.hasBefore).toBe(true);
    const start = await fixture.request(
      `/api/executions/${id}/logs?before=2&limit=10`,
      { token: fixture.viewerToken },
    );
    expect(await start.json()).toMatchObject({
      lines: [{ seq: 0 }, { seq: 1 }],
      hasBefore: false,
    });
    const raw = await fixture.request(`/api/executions/${id}/logs/raw`, {
      token: fixture.viewerToken,
    });
    expect(raw.headers.get('content-disposition')).toContain(`${id}.log`);
    const text = await raw.text();
    expect(text.split('\n')).toHaveLength(total + 1);
    expect(text.startsWith('long line 0\nlong line 1\n')).toBe(true);
  });

  it('says what a re-run reused and what it ran again, and links its original', async () => {
    const original = await fixture.seedRun({}, { executions: { train: {} } });
    const reusedFrom = executionIdOf(original, 'train');
    const rerun = await fixture.seedRun({
      trigger: { event: 'rerun', rerunOf: original.id, reuse: true },
      nodes: [
        {
          name: 'train',
          step: 'train',
          index: 0,
          status: 'reused',
          attempt: 1,
          generation: 1,
          executionId: reusedFrom,
          message: `reused execution ${reusedFrom}`,
        },
        {
          name: 'evaluate',
          step: 'evaluate',
          index: 1,
          status: 'complete',
          attempt: 1,
          generation: 1,
        },
      ],
    });
    const html = await page(`/runs/${rerun.id}`);
    expect(html).toMatch(/reused:\s*<b>train<\/b>/);
    expect(html).toMatch(/ran:\s*<b>evaluate<\/b>/);
    expect(html).toContain(`href="/runs/${original.id}"`);
    // The reused step links to the execution it took, on its own run.
    expect(html).toContain(`href="/executions/${reusedFrom}"`);
  });

  it('answers unknown pages and ids with 404 pages, not a login form', async () => {
    for (const path of ['/runs/nope', '/executions/nope', '/no/such/page']) {
      const response = await fixture.request(path, {
        token: fixture.viewerToken,
      });
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toContain('text/html');
      const html = await response.text();
      expect(html).toContain('Not found');
      expect(html).not.toContain('name="token"');
    }
    const icon = await fixture.request('/favicon.ico');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toContain('image/svg+xml');
  });
});
