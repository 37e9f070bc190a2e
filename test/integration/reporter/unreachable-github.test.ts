import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';
import {
  createReporterFixture,
  sha,
  waitUntil,
  type ReporterFixture,
} from './reporter-fixture.js';

/** A loopback port nothing listens on: connections are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string')
    throw new Error('no port');
  return address.port;
}

describe.skipIf(!haveRedis())('a GitHub kiln cannot reach', () => {
  let server: TestRedis;
  let fixture: ReporterFixture;

  beforeAll(async () => {
    server = await startTestRedis();
    fixture = await createReporterFixture(server.url);
  });
  afterAll(async () => {
    await fixture?.close();
    await server?.close();
  });

  it('is named in the log with its cause, once however often reports retry', async () => {
    const lines: Array<{
      level: number;
      msg: string;
      err?: { message?: string };
    }> = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n')) {
            if (line.trim()) lines.push(JSON.parse(line));
          }
          done();
        },
      }),
    );
    const url = `http://127.0.0.1:${await closedPort()}`;
    const reporter = fixture.makeReporter({
      github: fixture.tokenClient(url),
      logger,
    });
    reporter.startReportWorker();
    await fixture.createRun({ commit: sha(7) });

    const failed = () =>
      lines.filter((line) => line.msg === 'report failed; retrying later');
    await waitUntil(() => failed().length >= 3, 'three failed attempts');
    const warnings = failed().filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.err?.message).toMatch(
      /ECONNREFUSED|fetch failed|refused/i,
    );
  });
});
