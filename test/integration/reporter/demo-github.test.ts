/**
 * `npm run demo` reporting to GitHub: the demo (a real `kiln up`, the iris
 * example in containers, three commits: main, a pull request, a second push
 * to it) with KILN_GITHUB_API_URL pointed at the GitHub stand-in. The demo
 * waits until GitHub has the reports and keeps kiln running, so every link
 * GitHub received is fetched from the live kiln.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startGithubStandIn,
  type GithubStandIn,
} from '../../helpers/github-stand-in.js';
import {
  hasCommand,
  haveImage,
  requireService,
} from '../../helpers/services.js';
import { waitUntil } from './reporter-fixture.js';

const IMAGE = 'kiln-examples/python-sklearn:1';
const TOKEN = 'ghp_demo_token';
const REPOSITORY = 'kiln-demo/iris';
const CONTEXT = 'kiln/train-and-evaluate';
const ready =
  requireService(
    'redis-server',
    hasCommand('redis-server'),
    'apt-get install redis-server',
  ) && haveImage(IMAGE);

describe.skipIf(!ready)('the demo, reporting to GitHub', () => {
  let github: GithubStandIn;
  let demo: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    github = await startGithubStandIn({ tokens: [TOKEN] });
    demo = spawn(
      join(process.cwd(), 'node_modules', '.bin', 'tsx'),
      ['scripts/demo.ts'],
      {
        cwd: process.cwd(),
        env: {
          ...process.env,
          KILN_GITHUB_API_URL: github.url,
          KILN_GITHUB_TOKEN: TOKEN,
          KILN_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    demo.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => demo.once('exit', resolve));
    let gone = false;
    void exited.then(() => (gone = true));
    await waitUntil(
      () => {
        if (gone) throw new Error(`the demo exited:\n${output}`);
        return output.includes('kiln keeps running');
      },
      'the demo to finish its runs and keep kiln running',
      600_000,
    );
  }, 660_000);
  afterAll(async () => {
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGINT');
      await exited;
    }
    await github?.close();
  });

  function commits(): string[] {
    return [
      ...new Set(
        github.statuses
          .filter((item) => item.repository === REPOSITORY)
          .map((item) => item.sha),
      ),
    ];
  }

  it('waited until GitHub had the reports, and said so', () => {
    expect(output).toContain(
      'GitHub has the final status of each of the 3 commits and the PR comment',
    );
  });

  it('gave each commit a pending and then a final status, linked to a page that opens', async () => {
    expect(commits()).toHaveLength(3);
    for (const sha of commits()) {
      const states = github
        .statusesFor(REPOSITORY, sha, CONTEXT)
        .map((item) => item.state);
      expect({ sha, first: states[0] }).toEqual({ sha, first: 'pending' });
      expect(['success', 'failure']).toContain(states.at(-1));
      for (const status of github.statusesFor(REPOSITORY, sha, CONTEXT)) {
        expect(status.target_url).toMatch(/^http:\/\/localhost:\d+\/runs\//);
        const page = await fetch(status.target_url ?? '');
        expect({ url: status.target_url, status: page.status }).toEqual({
          url: status.target_url,
          status: 200,
        });
      }
    }
    github.assertNoInvalidRequests();
  });

  it('kept one comment on the pull request: created once, then edited for the second push', async () => {
    const creates = github.requests.filter(
      (item) =>
        item.method === 'POST' &&
        item.route === '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    );
    const edits = github.requests.filter(
      (item) =>
        item.method === 'PATCH' &&
        item.route === '/repos/{owner}/{repo}/issues/comments/{comment_id}',
    );

    expect(github.comments).toHaveLength(1);
    expect(creates).toHaveLength(1);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    const [comment] = github.comments;
    expect(comment).toMatchObject({ repository: REPOSITORY, issue: 1 });
    expect(comment?.body).toContain(
      '<!-- kiln:pr-comment pipeline=train-and-evaluate -->',
    );
    // The last push's report (commits in the order GitHub first heard of them).
    const last = commits().at(-1) ?? '';
    expect(comment?.body).toContain(`Commit \`${last.slice(0, 7)}\``);
  });

  it("shows the training curves against main's as an image kiln serves", async () => {
    const body = github.comments[0]?.body ?? '';
    const image = /!\[[^\]]*\]\((http[^)\s]+)\)/.exec(body)?.[1] ?? '';
    expect(image).toMatch(/^http:\/\/localhost:\d+\/charts\//);

    const response = await fetch(image);
    const svg = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svg).toContain('train_loss · train');
    expect(svg).toContain('train_accuracy · train');
  });
});
