/**
 * Approving a held fork run asks GitHub whether the approver is a
 * collaborator with write access (through the OpenAPI-checked stand-in).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createCollaboratorCheck } from '../../../src/forge/github/check-collaborator.js';
import { createGithubClient } from '../../../src/forge/github/create-github-client.js';
import { readSettings } from '../../../src/settings.js';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';

describe('createCollaboratorCheck', () => {
  let github: GithubStandIn;

  beforeAll(async () => {
    github = await startGithubStandIn({
      tokens: ['test-token'],
      collaborators: {
        'acme/models': { maintainer: 'write', owner: 'admin', reader: 'read' },
      },
    });
  });

  afterAll(async () => {
    await github?.close();
  });

  it('lets write and admin collaborators approve, nobody else', async () => {
    const settings = readSettings({
      KILN_GITHUB_TOKEN: 'test-token',
      KILN_GITHUB_API_URL: github.url,
    });
    const client = createGithubClient({
      settings,
      logger: pino({ level: 'silent' }),
    });
    const check = createCollaboratorCheck(client)!;

    const answers = await Promise.all(
      ['maintainer', 'owner', 'reader', 'stranger'].map((login) =>
        check('acme/models', login),
      ),
    );

    expect(answers).toEqual([true, true, false, false]);
    github.assertNoInvalidRequests();
  });

  it('is absent when GitHub is not configured', () => {
    expect(createCollaboratorCheck(null)).toBeUndefined();
  });
});
