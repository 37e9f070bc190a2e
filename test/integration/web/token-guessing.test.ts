/**
 * Failed token attempts are limited per address (issue 11 item 9: they
 * were not rate-limited): after 30 in a minute the address gets 429 with
 * Retry-After — on the API and the login form, a valid token included —
 * until the minute is over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import { startWebFixture, type WebFixture } from './web-fixture.js';

describe.skipIf(!haveRedis())('guessing tokens', () => {
  let fixture: WebFixture;

  beforeAll(async () => {
    fixture = await startWebFixture();
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  it('is refused after 30 failures a minute, with Retry-After', async () => {
    // A valid token works before, and is not counted.
    const before = await fixture.request('/api/runs', {
      token: fixture.viewerToken,
    });
    expect(before.status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const answer = await fixture.request('/api/runs', {
        token: `kiln_guess${i}`,
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual(statuses.map(() => 401));

    const refused = await fixture.request('/api/runs', {
      token: 'kiln_guess-next',
    });
    const valid = await fixture.request('/api/runs', {
      token: fixture.viewerToken,
    });
    const login = await fixture.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(fixture.adminToken)}`,
    });

    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /^too many failed token attempts from this address: try again in \d+ s$/,
    );
    expect(valid.status).toBe(429);
    expect(login.status).toBe(429);
    expect(await login.text()).toContain('too many failed token attempts');
  });
});
