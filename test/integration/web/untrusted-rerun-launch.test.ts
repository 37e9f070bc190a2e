/**
 * Approval can't be side-stepped through the API (issue 11 item 2: a
 * re-run of a held fork run ran at once, and launching a fork's commit by
 * its SHA made a trusted run with secrets). Against a real server, Redis
 * and git: a re-run of an untrusted run is held again and untrusted; a
 * launch by a SHA that no branch or tag holds (how GitHub serves a fork's
 * commit through the base repository) is held and untrusted; a SHA on a
 * branch is trusted and not held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/model/run.js';
import { git } from '../../helpers/git-repo.js';
import { haveRedis } from '../../helpers/services.js';
import { REPOSITORY, startWebFixture, type WebFixture } from './web-fixture.js';

describe.skipIf(!haveRedis())('untrusted runs stay untrusted', () => {
  let fixture: WebFixture;

  beforeAll(async () => {
    fixture = await startWebFixture();
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  async function post(path: string, body?: unknown) {
    const response = await fixture.request(path, {
      method: 'POST',
      token: fixture.adminToken,
      body,
    });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  async function stored(id: unknown): Promise<RunRecord> {
    const run = await fixture.control.runs.getRun(String(id));
    if (!run) throw new Error(`run ${String(id)} not stored`);
    return run;
  }

  function expectHeld(run: RunRecord): void {
    expect(run.status).toBe('waiting-approval');
    expect(run.trusted).toBe(false);
    // Nothing queued, nothing claimed: the steps wait for a person.
    expect(run.nodes.map((node) => node.status)).toEqual(
      run.nodes.map(() => 'pending'),
    );
  }

  it('holds the re-run of a held fork run again, untrusted', async () => {
    const held = await fixture.seedRun({
      status: 'waiting-approval',
      trusted: false,
      trigger: { event: 'pull_request', sender: 'mallory' },
      nodes: ['train', 'evaluate'].map((name, index) => ({
        name,
        step: name,
        index,
        status: 'pending' as const,
        attempt: 0,
        generation: 0,
      })),
    });

    const rerun = await post(`/api/runs/${held.id}/rerun`);

    expect(rerun.status, JSON.stringify(rerun.body)).toBe(201);
    expect(rerun.body.id).not.toBe(held.id);
    expectHeld(await stored(rerun.body.id));
  });

  it("holds a launch by a fork's SHA that no branch or tag holds", async () => {
    // A commit only reachable by its id, as GitHub serves a fork PR's head
    // through the base repository.
    const tree = git(fixture.repoDir, 'rev-parse', `${fixture.head}^{tree}`);
    const dangling = git(
      fixture.repoDir,
      'commit-tree',
      tree,
      '-p',
      fixture.head,
      '-m',
      'from a fork',
    );
    git(fixture.repoDir, 'config', 'uploadpack.allowAnySHA1InWant', 'true');

    const launched = await post('/api/runs', {
      repository: REPOSITORY,
      commit: dangling,
      name: 'train-evaluate',
    });

    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    expectHeld(await stored(launched.body.id));
  });

  it('trusts a launch by a SHA on a branch and does not hold it', async () => {
    const launched = await post('/api/runs', {
      repository: REPOSITORY,
      commit: fixture.head,
      name: 'train-evaluate',
    });

    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    const run = await stored(launched.body.id);
    expect(run.trusted).toBe(true);
    expect(run.status).not.toBe('waiting-approval');
  });
});
