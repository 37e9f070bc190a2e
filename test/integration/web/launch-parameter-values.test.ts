/**
 * A parameter value no process can take is refused when the run is
 * launched, with the parameter's name — not at container start with an
 * error naming nothing (issue 11 item 9: NUL bytes and 900 KB values).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import {
  commitTo,
  REPOSITORY,
  startWebFixture,
  type WebFixture,
} from './web-fixture.js';

// A string parameter nothing else constrains: only the new check can
// refuse its value.
const CONFIG = `- step:
    name: echo
    image: busybox
    command: echo {parameters}
    parameters:
      - name: note
        type: string
        default: hello
`;

describe.skipIf(!haveRedis())('launch parameter values', () => {
  let fixture: WebFixture;
  let commit: string;

  beforeAll(async () => {
    fixture = await startWebFixture();
    // kiln knows a repository from its runs.
    await fixture.seedRun();
    commit = commitTo(fixture.repoDir, { 'kiln.yaml': CONFIG });
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  async function launch(note: string) {
    const response = await fixture.request('/api/runs', {
      method: 'POST',
      token: fixture.adminToken,
      body: {
        repository: REPOSITORY,
        commit,
        name: 'echo',
        parameters: { note },
      },
    });
    return {
      status: response.status,
      body: (await response.json()) as { error?: string },
    };
  }

  async function runCount(): Promise<number> {
    return (await fixture.control.runs.listRuns({ limit: 1000 })).length;
  }

  it('refuses a NUL byte with a 422 naming the parameter', async () => {
    const before = await runCount();

    const answer = await launch('hello\0world');

    expect(answer.status, JSON.stringify(answer.body)).toBe(422);
    expect(answer.body.error).toMatch(
      /parameter "note": the value contains a NUL byte, which can't be passed to a process/,
    );
    expect(await runCount()).toBe(before);
  });

  it('launches the same step with an ordinary value', async () => {
    const answer = await launch('hello world');

    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  });

  it('refuses a 200 KB value before reading it (the API body limit)', async () => {
    const before = await runCount();

    const answer = await launch('x'.repeat(200_000));

    expect(answer.status).toBe(413);
    expect(await runCount()).toBe(before);
  });
});
