/**
 * The run page over plain HTTP: hostile values come out escaped, and a
 * long log shows its last lines (then streams from there).
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
    const html = await page(`/runs/${run.id}`);
    // The step's record and log are on the page, escaped.
    expect(html).toContain(`data-log="${id}"`);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
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
    const html = await page(`/runs/${run.id}`);
    expect(html).toContain(`data-after="${total - 1}"`);
    expect(html).toContain(`long line ${total - 1}\n`);
    expect(html).toContain(`long line ${total - 500}\n`);
    expect(html).not.toContain(`long line ${total - 501}\n`);
  });
});
