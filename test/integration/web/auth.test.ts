/**
 * Who may do what: no token / viewer / admin for every action and read,
 * public read, the login cookie and its same-origin check, token records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenStore,
  hashToken,
} from '../../../src/http/auth/token-store.js';
import { haveRedis } from '../../helpers/services.js';
import { REPOSITORY, startWebFixture, type WebFixture } from './web-fixture.js';

describe.skipIf(!haveRedis())('API auth', () => {
  let fixture: WebFixture;
  let runId: string;

  beforeAll(async () => {
    fixture = await startWebFixture();
    const run = await fixture.seedRun({ status: 'waiting-approval' });
    runId = run.id;
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  const actions = () => [
    {
      path: '/api/runs',
      body: { repository: REPOSITORY, ref: 'main', name: 'train' },
    },
    { path: `/api/runs/${runId}/rerun`, body: {} },
    { path: `/api/runs/${runId}/cancel`, body: {} },
    { path: `/api/runs/${runId}/approve`, body: { approver: 'octocat' } },
  ];

  async function snapshot(): Promise<string> {
    const runs = await fixture.control.runs.listRuns({ limit: 1000 });
    return JSON.stringify(runs.map((run) => [run.id, run.status]));
  }

  it.each([
    ['no token', undefined, 401],
    ['a wrong token', 'kiln_notavalidtoken', 401],
    ['a viewer token', 'viewer', 403],
  ])(
    'refuses every action with %s and changes nothing',
    async (_label, token, status) => {
      const before = await snapshot();
      for (const action of actions()) {
        const response = await fixture.request(action.path, {
          method: 'POST',
          token: token === 'viewer' ? fixture.viewerToken : token,
          body: action.body,
        });
        expect(response.status, action.path).toBe(status);
        expect(((await response.json()) as { error: string }).error).toMatch(
          /token/,
        );
      }
      expect(await snapshot()).toBe(before);
    },
  );

  it('lets an admin act', async () => {
    const response = await fixture.request(`/api/runs/${runId}/cancel`, {
      method: 'POST',
      token: fixture.adminToken,
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe(
      'cancelled',
    );
  });

  it('needs a token to read unless public read is on', async () => {
    for (const path of [
      '/api/runs',
      `/api/runs/${runId}`,
      '/api/deliveries',
      '/api/repositories',
      '/api/executions/x/logs/stream',
    ]) {
      const anonymous = await fixture.request(path);
      expect(anonymous.status, path).toBe(401);
      expect(JSON.stringify(await anonymous.json())).not.toContain(runId);
    }
    const viewer = await fixture.request('/api/runs', {
      token: fixture.viewerToken,
    });
    expect(viewer.status).toBe(200);
    const page = await fixture.request(`/runs/${runId}`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(
      `/login?next=${encodeURIComponent(`/runs/${runId}`)}`,
    );
    const board = await fixture.request('/admin/queues', {
      token: fixture.viewerToken,
    });
    // Pages answer with pages: a viewer is told the board needs an admin,
    // an anonymous visitor is sent to log in (never raw JSON).
    expect(board.status).toBe(403);
    expect(board.headers.get('content-type')).toContain('text/html');
    expect(await board.text()).toContain('needs an admin token');
    const anonymousBoard = await fixture.request('/admin/queues');
    expect(anonymousBoard.status).toBe(303);
    expect(anonymousBoard.headers.get('location')).toBe(
      '/login?next=%2Fadmin%2Fqueues',
    );
    // bull-board 6 on express 5 and BullMQ 6: the page and its queue API.
    const adminBoard = await fixture.request('/admin/queues', {
      token: fixture.adminToken,
    });
    expect(adminBoard.status).toBe(200);
    const boardPage = await adminBoard.text();
    expect(boardPage).toMatch(/<html/i);
    // Nothing from another site (kiln's policy would block it anyway).
    expect(boardPage).not.toMatch(/(href|src)="https?:\/\//);
    const queues = await fixture.request('/admin/queues/api/queues', {
      token: fixture.adminToken,
    });
    expect(queues.status).toBe(200);
    const names = (
      (await queues.json()) as { queues: Array<{ name: string }> }
    ).queues.map((queue) => queue.name);
    expect(names).toEqual(
      expect.arrayContaining(['kiln-steps', 'kiln-intake']),
    );
  });

  it('logs in with a token form: HttpOnly SameSite=Strict cookie, same-origin POSTs only', async () => {
    const failed = await fixture.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=kiln_wrong&next=%2Fruns',
    });
    expect(failed.status).toBe(401);
    expect(failed.headers.get('set-cookie')).toBeNull();
    const login = await fixture.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(fixture.adminToken)}&next=${encodeURIComponent('//evil.example')}`,
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/runs');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    const page = await fixture.request('/runs', {
      headers: { cookie: session },
    });
    expect(page.status).toBe(200);

    const other = await fixture.seedRun({ status: 'running' });
    const crossSite = await fixture.request(`/api/runs/${other.id}/cancel`, {
      method: 'POST',
      headers: { cookie: session, origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const noOrigin = await fixture.request(`/api/runs/${other.id}/cancel`, {
      method: 'POST',
      headers: { cookie: session },
    });
    expect(noOrigin.status).toBe(403);
    expect((await fixture.control.runs.getRun(other.id))?.status).toBe(
      'running',
    );
    const sameSite = await fixture.request(`/api/runs/${other.id}/cancel`, {
      method: 'POST',
      headers: { cookie: session, origin: fixture.url },
    });
    expect(sameSite.status).toBe(200);
  });

  it('stores only the hash of a token, lists and revokes by name', async () => {
    const tokens = createTokenStore(fixture.deps.redis, {
      keys: fixture.deps.keys,
    });
    const { token, record } = await tokens.createToken({
      name: 'cron',
      role: 'viewer',
    });
    expect(record).toMatchObject({ name: 'cron', role: 'viewer' });
    const keys = await fixture.deps.redis.keys('*');
    for (const key of keys) {
      const type = await fixture.deps.redis.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await fixture.deps.redis.hgetall(key))
          : type === 'string'
            ? String(await fixture.deps.redis.get(key))
            : '';
      expect(dump).not.toContain(token);
    }
    expect(
      JSON.stringify(await fixture.deps.redis.hgetall('kw:api-token-hashes')),
    ).toContain(hashToken(token));
    await expect(
      tokens.createToken({ name: 'cron', role: 'admin' }),
    ).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    await expect(
      tokens.createToken({ name: '--x', role: 'admin' }),
    ).rejects.toMatchObject({ code: 'INVALID_NAME' });
    expect((await tokens.listTokens()).map((item) => item.name)).toEqual([
      'ci',
      'cron',
      'reader',
    ]);
    expect((await fixture.request('/api/runs', { token })).status).toBe(200);
    expect(await tokens.revokeToken('cron')).toBe(true);
    expect(await tokens.revokeToken('cron')).toBe(false);
    expect((await fixture.request('/api/runs', { token })).status).toBe(401);
  });
});

describe.skipIf(!haveRedis())('API with KILN_PUBLIC_READ=true', () => {
  let fixture: WebFixture;
  beforeAll(async () => {
    fixture = await startWebFixture({ env: { KILN_PUBLIC_READ: 'true' } });
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  it('shows runs without a token but still refuses actions', async () => {
    const run = await fixture.seedRun({ status: 'running' });
    const list = await fixture.request('/api/runs');
    expect(list.status).toBe(200);
    expect(JSON.stringify(await list.json())).toContain(run.id);
    expect((await fixture.request(`/runs/${run.id}`)).status).toBe(200);
    const cancel = await fixture.request(`/api/runs/${run.id}/cancel`, {
      method: 'POST',
    });
    expect(cancel.status).toBe(401);
    expect((await fixture.control.runs.getRun(run.id))?.status).toBe('running');
    // A token that is presented but not valid is refused, not read as
    // anonymous: a revoked token is noticed.
    const bad = await fixture.request('/api/runs', {
      token: 'kiln_not-a-real-token',
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toContain(
      'not valid',
    );
    const stale = await fixture.request(`/runs/${run.id}`, {
      headers: { cookie: 'kiln_session=kiln_revoked' },
    });
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toContain('/login?expired=1');
    // Every page router decides access the same way (page-access.ts).
    expect((await fixture.request('/schedules')).status).toBe(200);
    const staleSchedules = await fixture.request('/schedules', {
      headers: { cookie: 'kiln_session=kiln_revoked' },
    });
    expect(staleSchedules.status).toBe(303);
    expect(staleSchedules.headers.get('location')).toBe(
      '/login?expired=1&next=%2Fschedules',
    );
    expect(staleSchedules.headers.get('set-cookie')).toContain('Max-Age=0');
  });
});
