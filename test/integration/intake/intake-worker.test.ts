/**
 * From a verified delivery to runs: the intake worker reads kiln.yaml at the
 * pushed SHA from a real bare repository, matches triggers, creates runs
 * (reliability-plan §8.2 rows 9, 13–20; §8.3 F21, F23, F24).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveRun, ApprovalError } from '../../../src/control/approve-run.js';
import { processDelivery } from '../../../src/intake/process-delivery.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import type { RunRecord } from '../../../src/model/run.js';
import { haveRedis } from '../../helpers/services.js';
import { git } from '../git/git-fixture.js';
import {
  KILN_YAML,
  REPOSITORY,
  pullRequestPayload,
  pushPayload,
  pushPullRequestHead,
  startIntakeFixture,
  type IntakeFixture,
} from './intake-fixture.js';

describe.skipIf(!haveRedis())('intake worker', () => {
  let fixture: IntakeFixture;
  let mainSha: string;

  beforeAll(async () => {
    fixture = await startIntakeFixture();
    mainSha = fixture.push('main', { 'kiln.yaml': KILN_YAML });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  async function deliver(event: string, payload: unknown) {
    const delivery = randomUUID();
    const response = await fixture.post({ event, delivery, payload });
    expect(response.status).toBe(202);
    return fixture.waitForOutcome(delivery);
  }

  async function runOf(id: string | undefined): Promise<RunRecord> {
    const run = id ? await fixture.control.runs.getRun(id) : null;
    if (!run) throw new Error(`run ${id} not found`);
    return run;
  }

  function push(
    branch: string,
    after: string,
    extra: Record<string, unknown> = {},
  ) {
    return {
      ...pushPayload({ bareDir: fixture.bareDir, branch, after }),
      ...extra,
    };
  }

  it('creates a run pinned to the pushed SHA for a matching trigger', async () => {
    const outcome = await deliver('push', push('main', mainSha));
    expect(outcome).toMatchObject({
      status: 'runs-created',
      repository: REPOSITORY,
      ref: 'refs/heads/main',
      sha: mainSha,
    });
    expect(outcome.runIds).toHaveLength(1);
    const run = await runOf(outcome.runIds[0]);
    expect(run).toMatchObject({
      repository: REPOSITORY,
      commit: mainSha,
      ref: 'refs/heads/main',
      name: 'train',
      status: 'queued',
      trusted: true,
      source: { id: `github.com/${REPOSITORY}`, url: fixture.bareDir },
      trigger: { event: 'push', deliveryId: outcome.id, fork: false },
    });
  });

  it('F21: five copies of one delivery at once make one run', async () => {
    const sha = fixture.push(
      'release/1',
      { 'kiln.yaml': KILN_YAML },
      'release',
    );
    const delivery = randomUUID();
    const payload = push('release/1', sha);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        fixture.post({ event: 'push', delivery, payload }),
      ),
    );
    for (const answer of answers) expect([200, 202]).toContain(answer.status);
    const outcome = await fixture.waitForOutcome(delivery);
    expect(outcome.status).toBe('runs-created');
    const runs = await fixture.control.runs.listRuns({
      repository: REPOSITORY,
      commit: sha,
      limit: 100,
    });
    expect(runs).toHaveLength(1);
  });

  it('row: the same push under two delivery GUIDs makes one run; pushing it again later makes another', async () => {
    const sha = fixture.push('release/3', { 'kiln.yaml': KILN_YAML }, 'twice');
    const payload = push('release/3', sha);
    const first = await deliver('push', payload);
    const second = await deliver('push', payload);
    expect(second.id).not.toBe(first.id);
    expect(second.runIds).toEqual(first.runIds);
    const again = await deliver(
      'push',
      pushPayload({
        bareDir: fixture.bareDir,
        branch: 'release/3',
        after: sha,
        pushedAt: 1_900_000_000,
      }),
    );
    expect(again.runIds).toHaveLength(1);
    expect(again.runIds).not.toEqual(first.runIds);
    const runs = await fixture.control.runs.listRuns({
      repository: REPOSITORY,
      commit: sha,
      limit: 100,
    });
    expect(runs).toHaveLength(2);
  });

  it('processing the same job again finds the same runs (idempotent)', async () => {
    const sha = fixture.push('release/2', { 'kiln.yaml': KILN_YAML }, 'again');
    const job = {
      deliveryId: randomUUID(),
      event: 'push',
      payload: JSON.stringify(push('release/2', sha)),
    };
    const deps = intakeDeps();
    const first = await processDelivery(deps, job);
    const second = await processDelivery(deps, job);
    expect(second.runIds).toEqual(first.runIds);
    const runs = await fixture.control.runs.listRuns({
      repository: REPOSITORY,
      commit: sha,
      limit: 100,
    });
    expect(runs.map((run) => run.id)).toEqual(first.runIds);
  });

  function intakeDeps(allowLocalRepositories = true) {
    return {
      control: fixture.control,
      eventTimes: fixture.eventTimes,
      git: new GitMaterialiser({
        cacheDir: join(tmpdir(), `kiln-intake-direct-${randomUUID()}`),
        fetchAttempts: 1,
      }),
      deliveries: fixture.deliveries,
      allowLocalRepositories,
    };
  }

  it('says so when kiln.yaml has no trigger for the event', async () => {
    const sha = fixture.push('main', {
      'kiln.yaml': KILN_YAML.split('- trigger:')[0] ?? '',
    });
    const outcome = await deliver('push', push('main', sha));
    expect(outcome).toMatchObject({
      status: 'ignored',
      reason: 'kiln.yaml has no trigger for push',
      runIds: [],
    });
  });

  it('an invalid kiln.yaml makes one failed run carrying the findings', async () => {
    const sha = fixture.push('main', {
      'kiln.yaml': `${KILN_YAML}- step:\n    name: [broken\n`,
    });
    const outcome = await deliver('push', push('main', sha));
    expect(outcome.status).toBe('runs-created');
    expect(outcome.runIds).toHaveLength(1);
    const run = await runOf(outcome.runIds[0]);
    expect(run.status).toBe('error');
    expect(run.findings?.length).toBeGreaterThan(0);
    expect(run.commit).toBe(sha);
  });

  it('row 31: a kiln.yaml that is not UTF-8 makes one failed run saying so, as kiln validate does', async () => {
    fixture.push('main', { 'kiln.yaml': KILN_YAML }, 'utf-8 base');
    // A comment with bytes no UTF-8 text has.
    writeFileSync(
      join(fixture.repo.dir, 'kiln.yaml'),
      Buffer.concat([Buffer.from(`${KILN_YAML}# `), Buffer.from([0xff, 0x0a])]),
    );
    git(fixture.repo.dir, ['commit', '-q', '-am', 'latin-1 byte']);
    const sha = git(fixture.repo.dir, ['rev-parse', 'HEAD']);
    git(fixture.repo.dir, [
      'push',
      '-q',
      '-f',
      fixture.bareDir,
      'HEAD:refs/heads/main',
    ]);

    const outcome = await deliver('push', push('main', sha));

    const run = await runOf(outcome.runIds[0]);
    expect(run.status).toBe('error');
    expect(run.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringMatching(
          /^the file is not valid UTF-8 \(line \d+, column \d+\); save it as UTF-8$/,
        ),
      }),
      // The rest of the file is still read: its step's image has no tag.
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('is not pinned (no tag)') as string,
      }),
    ]);
  });

  it('ignores a commit without kiln.yaml or valohai.yaml, and falls back to valohai.yaml', async () => {
    git(fixture.repo.dir, ['rm', '-q', 'kiln.yaml']);
    const none = fixture.push('main', {}, 'no config');
    const ignored = await deliver('push', push('main', none));
    expect(ignored.status).toBe('ignored');
    expect(ignored.reason).toContain('no kiln.yaml or valohai.yaml');

    const valohai = fixture.push('main', { 'valohai.yaml': KILN_YAML });
    const created = await deliver('push', push('main', valohai));
    expect(created.status).toBe('runs-created');
    git(fixture.repo.dir, ['rm', '-q', 'valohai.yaml']);
    fixture.push('main', { 'kiln.yaml': KILN_YAML }, 'config back');
  });

  it('matches branch and path filters', async () => {
    const yaml = `${KILN_YAML.split('- trigger:')[0] ?? ''}- trigger:
    name: src-only
    on: [push]
    branches: ['feature/**']
    paths: ['src/**']
    run: train
`;
    const base = fixture.push('feature/a', { 'kiln.yaml': yaml }, 'base');
    const docs = fixture.push('feature/a', { 'docs/readme.md': 'x' }, 'docs');
    const docsOutcome = await deliver('push', {
      ...push('feature/a', docs),
      before: base,
    });
    expect(docsOutcome.status).toBe('ignored');
    expect(docsOutcome.reason).toContain('no trigger in kiln.yaml matches');

    const src = fixture.push('feature/a', { 'src/model.py': 'x' }, 'src');
    const srcOutcome = await deliver('push', {
      ...push('feature/a', src),
      before: docs,
    });
    expect(srcOutcome.status).toBe('runs-created');

    const other = await deliver('push', push('unrelated', src));
    expect(other.status).toBe('ignored');
  });

  it('row 9: ping, unknown events and unsupported actions are ignored with a reason', async () => {
    expect(await deliver('ping', { zen: 'x', hook_id: 1 })).toMatchObject({
      status: 'ignored',
      reason: 'ping',
    });
    const star = await deliver('star', { action: 'created' });
    expect(star.status).toBe('ignored');
    expect(star.reason).toContain('"star"');
    const labeled = await deliver(
      'pull_request',
      pullRequestPayload({
        bareDir: fixture.bareDir,
        action: 'labeled',
        number: 7,
        headSha: mainSha,
        baseSha: mainSha,
      }),
    );
    expect(labeled).toMatchObject({
      status: 'ignored',
      reason: 'pull_request action "labeled" does not run pipelines',
      runIds: [],
    });
  });

  it('records installation events', async () => {
    const outcome = await deliver('installation', {
      action: 'created',
      installation: { id: 42, account: { login: 'acme' } },
      sender: { login: 'octocat' },
    });
    expect(outcome).toMatchObject({
      status: 'recorded',
      reason: 'installation created for acme',
    });
  });

  it('row 13: a deleted branch cancels its runs without any git work', async () => {
    const sha = fixture.push('doomed', {
      'kiln.yaml': KILN_YAML.replace("'release/*'", 'doomed'),
    });
    const created = await deliver('push', push('doomed', sha));
    expect(created.status).toBe('runs-created');
    const deleted = {
      ...push('doomed', '0'.repeat(40)),
      before: sha,
      deleted: true,
      head_commit: null,
      // A clone url that would fail if anything tried to fetch.
      repository: {
        ...(push('doomed', sha).repository as object),
        clone_url: '/nonexistent/repository.git',
      },
    };
    const outcome = await deliver('push', deleted);
    expect(outcome.status).toBe('ignored');
    expect(outcome.cancelledRunIds).toEqual(created.runIds);
    const run = await runOf(created.runIds[0]);
    expect(run.status).toBe('cancelled');
    expect(run.reason).toBe('cancelled — branch doomed was deleted');
  });

  it.each([
    ['upper-case', mainShaPlaceholder('upper')],
    ['a branch name', 'main'],
    ['an option', '--upload-pack=touch /tmp/x'],
    ['short', 'abc123'],
  ])(
    'row 14: an "after" that is %s is rejected before any git call',
    async (_name, after) => {
      const payload = push(
        'main',
        after === 'UPPER' ? mainSha.toUpperCase() : after,
      );
      const outcome = await deliver('push', {
        ...payload,
        repository: {
          ...(payload.repository as object),
          clone_url: '/nonexistent/repository.git',
        },
      });
      expect(outcome.status).toBe('rejected');
      expect(outcome.reason).toContain('40-character lowercase hex');
      expect(outcome.runIds).toEqual([]);
    },
  );

  it('row 15: hostile branch names stay data', async () => {
    const sentinel = join(tmpdir(), `kiln-sentinel-${randomUUID()}`);
    const yaml = KILN_YAML.replace("[main, 'release/*']", "['**']");
    const sha = fixture.push('hostile-base', { 'kiln.yaml': yaml });
    const names = [
      `$(touch ${sentinel})`,
      `\`touch ${sentinel}\``,
      '-upload-pack=x',
      '--output=/etc/x',
      'a;b',
      'new\nline',
      'x'.repeat(250),
      'abc\u202Egnp.exe',
    ];
    for (const name of names) {
      const outcome = await deliver('push', push(name, sha));
      expect(outcome.status).toBe('runs-created');
      const run = await runOf(outcome.runIds[0]);
      expect(run.ref).toBe(`refs/heads/${name}`);
      expect(run.commit).toBe(sha);
    }
    expect(existsSync(sentinel)).toBe(false);
  });

  describe('pull requests from forks', () => {
    let forkSha: string;
    const forkPr = (action: string, number: number, headSha: string) =>
      pullRequestPayload({
        bareDir: fixture.bareDir,
        action,
        number,
        headSha,
        baseSha: mainSha,
        headRepository: 'mallory/models',
        author: 'mallory',
      });

    beforeAll(() => {
      git(fixture.repo.dir, ['checkout', '-q', '-b', 'fork-work', mainSha]);
      // The commit claims a maintainer's name: trust never comes from it.
      fixture.repo.write(
        'kiln.yaml',
        KILN_YAML.replace('echo train', 'cat /secrets'),
      );
      git(fixture.repo.dir, ['add', '-A']);
      git(fixture.repo.dir, [
        '-c',
        'user.name=Kiln Test',
        'commit',
        '-q',
        '-m',
        'innocent change',
      ]);
      forkSha = git(fixture.repo.dir, ['rev-parse', 'HEAD']);
      git(fixture.repo.dir, ['checkout', '-q', 'main']);
      pushPullRequestHead(fixture, { number: 11, sha: forkSha });
    });

    it('rows 16–17: a fork PR waits for approval, untrusted, even with a maintainer commit name', async () => {
      const outcome = await deliver(
        'pull_request',
        forkPr('opened', 11, forkSha),
      );
      expect(outcome.status).toBe('runs-created');
      const run = await runOf(outcome.runIds[0]);
      expect(run).toMatchObject({
        status: 'waiting-approval',
        trusted: false,
        commit: forkSha,
        ref: 'refs/pull/11/head',
        trigger: {
          event: 'pull_request',
          pullRequest: 11,
          fork: true,
          sender: 'mallory',
        },
        reason:
          'waiting for approval: pull request from fork mallory/models by @mallory — a collaborator with write access must approve it',
      });
      expect(run.nodes.every((node) => node.status === 'pending')).toBe(true);
    });

    it('row 18: every PR action that runs code is gated; others run nothing', async () => {
      for (const action of ['reopened', 'synchronize']) {
        const outcome = await deliver(
          'pull_request',
          forkPr(action, 12, forkSha),
        );
        const run = await runOf(outcome.runIds[0]);
        expect(run.status).toBe('waiting-approval');
        expect(run.trusted).toBe(false);
      }
      for (const action of ['edited', 'labeled', 'ready_for_review']) {
        const outcome = await deliver(
          'pull_request',
          forkPr(action, 12, forkSha),
        );
        expect(outcome.status).toBe('ignored');
        expect(outcome.runIds).toEqual([]);
      }
    });

    it('approveRun: only a collaborator releases the held run, once', async () => {
      const outcome = await deliver(
        'pull_request',
        forkPr('opened', 13, forkSha),
      );
      const runId = outcome.runIds[0] ?? '';
      const asked: string[] = [];
      const isCollaborator = async (repository: string, login: string) => {
        asked.push(`${repository}:${login}`);
        return login === 'maintainer';
      };
      await expect(
        approveRun(fixture.control, {
          runId,
          approver: 'mallory',
          isCollaborator,
        }),
      ).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
      expect((await runOf(runId)).status).toBe('waiting-approval');

      const approved = await approveRun(fixture.control, {
        runId,
        approver: 'maintainer',
        isCollaborator,
      });
      expect(approved.status).toBe('queued');
      expect(approved.trusted).toBe(false);
      expect(approved.reason).toContain('approved by @maintainer');
      expect(asked).toEqual([
        `${REPOSITORY}:mallory`,
        `${REPOSITORY}:maintainer`,
      ]);

      const again = approveRun(fixture.control, {
        runId,
        approver: 'maintainer',
        isCollaborator,
      });
      await expect(again).rejects.toBeInstanceOf(ApprovalError);
      await expect(again).rejects.toMatchObject({ code: 'NOT_WAITING' });
    });

    it('row 19: a PR whose head repository is gone is ignored', async () => {
      const payload = forkPr('opened', 14, forkSha);
      (
        (payload.pull_request as Record<string, unknown>).head as Record<
          string,
          unknown
        >
      ).repo = null;
      const outcome = await deliver('pull_request', payload);
      expect(outcome).toMatchObject({
        status: 'ignored',
        reason: 'source repository gone',
      });
    });

    it('F24: a new head supersedes the held run; closing cancels what is left', async () => {
      const first = await deliver(
        'pull_request',
        forkPr('opened', 15, forkSha),
      );
      git(fixture.repo.dir, ['checkout', '-q', 'fork-work']);
      const newer = fixture.repo.commit('more', { 'notes.txt': 'x' });
      git(fixture.repo.dir, ['checkout', '-q', 'main']);
      pushPullRequestHead(fixture, { number: 15, sha: newer });
      const later = new Date(Date.now() + 60_000).toISOString();
      const second = await deliver('pull_request', {
        ...forkPr('synchronize', 15, newer),
        pull_request: {
          ...(forkPr('synchronize', 15, newer).pull_request as object),
          updated_at: later,
        },
      });
      const old = await runOf(first.runIds[0]);
      expect(old.status).toBe('cancelled');
      expect(old.reason).toBe(`cancelled — superseded by ${newer.slice(0, 7)}`);
      expect(old.supersededBy).toBe(second.runIds[0]);

      const closed = await deliver('pull_request', forkPr('closed', 15, newer));
      expect(closed.cancelledRunIds).toEqual(second.runIds);
      expect((await runOf(second.runIds[0])).reason).toBe(
        'cancelled — pull request #15 was closed',
      );
    });
  });

  describe('superseding pushes (row 20, F23)', () => {
    it('two pushes racing on one branch: the older run ends superseded, never stuck', async () => {
      const a = fixture.push('main', { 'a.txt': 'a' }, 'A');
      const b = fixture.push('main', { 'b.txt': 'b' }, 'B');
      const now = Math.floor(Date.now() / 1000);
      const payloadA = pushPayload({
        bareDir: fixture.bareDir,
        branch: 'main',
        after: a,
        before: mainSha,
        pushedAt: now + 100,
      });
      const payloadB = pushPayload({
        bareDir: fixture.bareDir,
        branch: 'main',
        after: b,
        before: a,
        pushedAt: now + 101,
      });
      const [deliveryA, deliveryB] = [randomUUID(), randomUUID()];
      const answers = await Promise.all([
        fixture.post({ event: 'push', delivery: deliveryA, payload: payloadA }),
        fixture.post({ event: 'push', delivery: deliveryB, payload: payloadB }),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
      const outcomeA = await fixture.waitForOutcome(deliveryA);
      const outcomeB = await fixture.waitForOutcome(deliveryB);
      const runA = await runOf(outcomeA.runIds[0]);
      const runB = await runOf(outcomeB.runIds[0]);
      expect(runA.status).toBe('cancelled');
      expect(runA.reason).toBe(`cancelled — superseded by ${b.slice(0, 7)}`);
      expect(runA.supersededBy).toBe(runB.id);
      expect(runA.nodes.every((node) => node.status !== 'queued')).toBe(true);
      expect(runB.status).toBe('queued');
    });

    it('an older push delivered late never cancels the newer run', async () => {
      const c = fixture.push('main', { 'c.txt': 'c' }, 'C');
      const d = fixture.push('main', { 'd.txt': 'd' }, 'D');
      const now = Math.floor(Date.now() / 1000);
      const newer = await deliver(
        'push',
        pushPayload({
          bareDir: fixture.bareDir,
          branch: 'main',
          after: d,
          before: c,
          pushedAt: now + 201,
        }),
      );
      const older = await deliver(
        'push',
        pushPayload({
          bareDir: fixture.bareDir,
          branch: 'main',
          after: c,
          before: mainSha,
          pushedAt: now + 200,
        }),
      );
      const runD = await runOf(newer.runIds[0]);
      const runC = await runOf(older.runIds[0]);
      expect(runD.status).toBe('queued');
      expect(runC.status).toBe('cancelled');
      expect(runC.reason).toBe(`cancelled — superseded by ${d.slice(0, 7)}`);
      expect(runC.supersededBy).toBe(runD.id);
    });
  });

  it('throws a fetch failure for BullMQ to retry, without recording an outcome', async () => {
    const deliveryId = randomUUID();
    const payload = push('main', mainSha);
    const job = {
      deliveryId,
      event: 'push',
      payload: JSON.stringify({
        ...payload,
        repository: {
          ...(payload.repository as object),
          clone_url: join(tmpdir(), `kiln-missing-${randomUUID()}.git`),
        },
      }),
    };
    await expect(processDelivery(intakeDeps(), job)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      retryable: true,
    });
    expect(await fixture.deliveries.getDelivery(deliveryId)).toBeNull();
  });

  it('refuses local clone urls unless KILN_ALLOW_LOCAL_REPOSITORIES is on', async () => {
    const outcome = await processDelivery(intakeDeps(false), {
      deliveryId: randomUUID(),
      event: 'push',
      payload: JSON.stringify(push('main', mainSha)),
    });
    expect(outcome.status).toBe('rejected');
    expect(outcome.reason).toContain('KILN_ALLOW_LOCAL_REPOSITORIES');
    const ssh = await processDelivery(intakeDeps(true), {
      deliveryId: randomUUID(),
      event: 'push',
      payload: JSON.stringify({
        ...push('main', mainSha),
        repository: {
          ...(push('main', mainSha).repository as object),
          clone_url: 'ext::sh -c touch% /tmp/pwned',
        },
      }),
    });
    expect(ssh.status).toBe('rejected');
    expect(ssh.reason).toBe('clone url must start with https://');
  });
});

function mainShaPlaceholder(kind: 'upper'): string {
  return kind === 'upper' ? 'UPPER' : '';
}
