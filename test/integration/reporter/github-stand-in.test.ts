import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';

const SHA = 'a'.repeat(40);

describe('GitHub stand-in', () => {
  let github: GithubStandIn;

  beforeEach(async () => {
    github = await startGithubStandIn({ tokens: ['t'], contentPerMinute: 3 });
  });
  afterEach(async () => {
    await github.close();
  });

  function post(path: string, body: unknown, token = 't') {
    return fetch(`${github.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `token ${token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  }

  it('refuses and records a body that does not match the OpenAPI schema', async () => {
    const response = await post(`/repos/acme/models/statuses/${SHA}`, {
      state: 'green',
    });

    expect(response.status).toBe(422);
    expect(github.invalid[0]?.invalid).toMatch(/state/);
    expect(() => github.assertNoInvalidRequests()).toThrow(
      /GitHub would refuse/,
    );
  });

  it('records paths GitHub does not have', async () => {
    const response = await post('/repos/acme/models/statusez', {});

    expect(response.status).toBe(404);
    expect(github.invalid).toHaveLength(1);
  });

  it("enforces GitHub's limits: 140-character descriptions, credentials, writes per minute", async () => {
    const long = await post(`/repos/acme/models/statuses/${SHA}`, {
      state: 'success',
      description: 'x'.repeat(141),
    });
    const anonymous = await post(
      `/repos/acme/models/statuses/${SHA}`,
      { state: 'success' },
      'wrong',
    );
    const ok = [];
    for (let index = 0; index < 3; index += 1) {
      ok.push(
        (
          await post(`/repos/acme/models/statuses/${SHA}`, {
            state: 'success',
            context: `c${index}`,
          })
        ).status,
      );
    }
    const limited = await post(`/repos/acme/models/statuses/${SHA}`, {
      state: 'success',
    });

    expect(long.status).toBe(422);
    expect(anonymous.status).toBe(401);
    expect(ok).toEqual([201, 201, 201]);
    expect(limited.status).toBe(403);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(((await limited.json()) as { message: string }).message).toMatch(
      /secondary rate limit/,
    );
    github.assertNoInvalidRequests();
  });
});
