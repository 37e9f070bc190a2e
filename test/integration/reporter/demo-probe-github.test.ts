/**
 * The demo's one-line diagnosis when GitHub did not receive its reports:
 * an API that does not answer is named as such (kiln's client would log it
 * as "500 with id UNKNOWN"), one that answers is told apart.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeGithub } from '../../../scripts/demo-report.js';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('port');
  return address.port;
}

describe('the demo probing GitHub', () => {
  let github: GithubStandIn;
  beforeAll(async () => {
    github = await startGithubStandIn({ tokens: ['ghp_probe'] });
  });
  afterAll(async () => {
    await github?.close();
  });

  it('says kiln could not reach an API that refuses connections', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;

    expect(await probeGithub(url)).toBe(
      `kiln could not reach ${url} (ECONNREFUSED): is KILN_GITHUB_API_URL right, and is it reachable from here?`,
    );
  });

  it('tells an API that answers apart', async () => {
    const line = await probeGithub(github.url);

    expect(line).toMatch(
      new RegExp(
        `^${github.url.replace(/[.:/]/g, '\\$&')} answers \\(HTTP \\d{3}\\)`,
      ),
    );
    expect(github.requests.at(-1)).toMatchObject({ method: 'GET', path: '/' });
  });
});
