import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { toTriggerEvent } from '../../../../src/forge/github/to-trigger-event.js';

type Example = Record<string, unknown>;

function examplesOf(name: string): Example[] {
  const definition = (
    examples as unknown as Array<{ name: string; examples: Example[] }>
  ).find((item) => item.name === name);
  return (definition?.examples ?? []).map((item) => structuredClone(item));
}

describe('toTriggerEvent with GitHub example payloads', () => {
  it('reads a branch push', () => {
    const payload = examplesOf('push').find(
      (item) => item.ref === 'refs/heads/master',
    );
    const result = toTriggerEvent('push', payload);
    expect(result).toMatchObject({
      event: {
        kind: 'push',
        repository: {
          fullName: 'Codertocat/Hello-World',
          cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
        },
        ref: 'refs/heads/master',
        refType: 'branch',
        refName: 'master',
        sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        before: null,
        deleted: false,
        sender: 'Codertocat',
        pushedAt: 1557933657000,
      },
    });
  });

  it('reads a deleted tag as a deletion without a SHA', () => {
    const payload = examplesOf('push').find((item) => item.deleted === true);
    expect(toTriggerEvent('push', payload)).toMatchObject({
      event: { kind: 'push', refType: 'tag', deleted: true, sha: null },
    });
  });

  it('reads pull request actions that run code, and ignores the others', () => {
    const seen = new Map<string, string>();
    for (const payload of examplesOf('pull_request')) {
      const result = toTriggerEvent('pull_request', payload);
      const action = String(payload.action);
      seen.set(
        action,
        'event' in result
          ? 'event'
          : 'ignored' in result
            ? 'ignored'
            : 'rejected',
      );
      if ('event' in result && result.event.kind === 'pull_request') {
        expect(result.event).toMatchObject({
          number: 2,
          ref: 'refs/pull/2/head',
          fork: false,
          sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
          baseBranch: 'master',
        });
      }
    }
    expect(seen.get('opened')).toBe('event');
    expect(seen.get('synchronize')).toBe('event');
    expect(seen.get('reopened')).toBe('event');
    expect(seen.get('closed')).toBe('event');
    expect(seen.get('labeled')).toBe('ignored');
    expect(seen.get('assigned')).toBe('ignored');
  });

  it('marks a pull request from another repository as a fork', () => {
    const payload = examplesOf('pull_request').find(
      (item) => item.action === 'opened',
    ) as Example;
    const head = (payload.pull_request as Example).head as Example;
    head.repo = {
      ...(head.repo as Example),
      full_name: 'mallory/Hello-World',
      id: 1,
    };
    expect(toTriggerEvent('pull_request', payload)).toMatchObject({
      event: { fork: true, headRepository: 'mallory/Hello-World' },
    });
  });

  it('ignores ping and unknown events, records installations', () => {
    expect(toTriggerEvent('ping', examplesOf('ping')[0])).toEqual({
      ignored: 'ping',
    });
    expect(toTriggerEvent('watch', examplesOf('watch')[0])).toHaveProperty(
      'ignored',
    );
    expect(
      toTriggerEvent('installation', examplesOf('installation')[0]),
    ).toMatchObject({ event: { kind: 'installation' } });
  });

  it('records an installation on an enterprise account (a slug, no login)', () => {
    const payload = examplesOf('installation')[0] as Example;
    (payload.installation as Example).account = {
      id: 1,
      node_id: 'E_1',
      name: 'Acme Corp',
      slug: 'acme-corp',
      html_url: 'https://github.com/enterprises/acme-corp',
      avatar_url: 'https://avatars.githubusercontent.com/b/1',
      created_at: null,
      updated_at: null,
    };

    expect(toTriggerEvent('installation', payload)).toMatchObject({
      event: { kind: 'installation', account: 'acme-corp' },
    });
  });

  it.each([null, 'text', [], { ref: 1 }, { after: 'x'.repeat(40) }])(
    'rejects a malformed push payload (%j) without throwing',
    (payload) => {
      expect(toTriggerEvent('push', payload)).toHaveProperty('rejected');
    },
  );

  it('rejects a repository name that is not owner/name', () => {
    const payload = examplesOf('push')[4] as Example;
    (payload.repository as Example).full_name = '../../etc';
    expect(toTriggerEvent('push', payload)).toHaveProperty('rejected');
  });

  it('reads a check run re-run as a re-run of the run named by its external_id', () => {
    const payload = examplesOf('check_run').find(
      (item) => item.action === 'rerequested',
    ) as Example;
    (payload.check_run as Example).external_id = 'r01abc';

    expect(toTriggerEvent('check_run', payload)).toEqual({
      event: {
        kind: 'rerun',
        scope: 'check_run',
        repository: {
          fullName: 'github/hello-world',
          // As in GitHub's own example.
          cloneUrl: 'http://github.com/github/hello-world.git',
        },
        sha: 'd6fde92930d4715a2b49857d24b940956b26d2d3',
        runId: 'r01abc',
        checkName: 'randscape',
        sender: 'octocat',
        installationId: 1,
      },
    });
  });

  it("ignores a re-run of a check run that is not kiln's", () => {
    const payload = examplesOf('check_run').find(
      (item) => item.action === 'rerequested',
    );

    expect(toTriggerEvent('check_run', payload)).toEqual({
      ignored:
        'check run "randscape" is not one of kiln\'s (no run id in external_id)',
    });
  });

  it('reads a check suite re-run as a re-run of its commit', () => {
    const payload = examplesOf('check_suite').find(
      (item) => item.action === 'rerequested',
    );

    expect(toTriggerEvent('check_suite', payload)).toMatchObject({
      event: {
        kind: 'rerun',
        scope: 'check_suite',
        sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      },
    });
  });

  it.each(['created', 'completed', 'requested_action'])(
    'ignores check_run %s',
    (action) => {
      const payload = examplesOf('check_run').find(
        (item) => item.action === action,
      );
      expect(toTriggerEvent('check_run', payload)).toHaveProperty('ignored');
    },
  );

  it('ignores the check suite request a push sends (the push starts the runs)', () => {
    const payload = examplesOf('check_suite').find(
      (item) => item.action === 'requested',
    );
    expect(toTriggerEvent('check_suite', payload)).toEqual({
      ignored: 'check_suite action "requested" does not start runs',
    });
  });
});
