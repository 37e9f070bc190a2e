/**
 * The demo's git side: a bare "origin" with kiln's post-receive hook (as a
 * self-hosted git server would have), a clone of the iris example that
 * pushes to it, and the `pull_request` delivery GitHub would send for a
 * branch. Every git call takes an argument array; nothing goes through a
 * shell.
 */
import { execFile } from 'node:child_process';
import {
  chmod,
  copyFile,
  cp,
  mkdir,
  readFile,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Commits need an identity; the developer's own git config stays out. */
const gitEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'kiln demo',
  GIT_AUTHOR_EMAIL: 'demo@kiln.invalid',
  GIT_COMMITTER_NAME: 'kiln demo',
  GIT_COMMITTER_EMAIL: 'demo@kiln.invalid',
};

export interface GitResult {
  stdout: string;
  stderr: string;
}

export async function git(cwd: string, args: string[]): Promise<GitResult> {
  const { stdout, stderr } = await run('git', args, {
    cwd,
    env: gitEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { stdout, stderr };
}

export interface DemoRepository {
  /** `kiln-demo/iris` */
  fullName: string;
  /** The bare repository kiln clones from (a local path). */
  origin: string;
  /** The developer's clone. */
  work: string;
}

export interface CreateDemoRepositoryOptions {
  /** Where to put `git/<owner>/<name>.git` and `work/`. */
  dir: string;
  fullName: string;
  /** The example project to commit (pipelines/examples/iris). */
  example: string;
  /** Copied into the origin's hooks/ (webhooks/ of this repository). */
  hooksDir: string;
  webhookUrl: string;
  webhookSecret: string;
}

/**
 * Creates the origin with the hook configured through git config (so the
 * demo's environment never leaks into the hook) and a work clone holding
 * the example committed on `main`, not pushed yet.
 */
export async function createDemoRepository(
  options: CreateDemoRepositoryOptions,
): Promise<DemoRepository> {
  const origin = join(options.dir, 'git', `${options.fullName}.git`);
  const work = join(options.dir, 'work');
  await mkdir(origin, { recursive: true });
  await git(origin, ['init', '--quiet', '--bare', '--initial-branch=main']);
  for (const file of ['post-receive', 'send-push.mjs']) {
    await copyFile(join(options.hooksDir, file), join(origin, 'hooks', file));
    await chmod(join(origin, 'hooks', file), 0o755);
  }
  const config: Array<[string, string]> = [
    ['kiln.webhookUrl', options.webhookUrl],
    ['kiln.webhookSecret', options.webhookSecret],
    ['kiln.repository', options.fullName],
    ['kiln.pusher', 'demo'],
  ];
  for (const [key, value] of config) {
    await git(origin, ['config', '--', key, value]);
  }

  await mkdir(work, { recursive: true });
  await git(work, ['init', '--quiet', '--initial-branch=main']);
  await cp(options.example, work, { recursive: true });
  await git(work, ['remote', 'add', 'origin', '--', origin]);
  await git(work, ['add', '--all']);
  await git(work, ['commit', '--quiet', '-m', 'Add the iris pipeline']);
  return { fullName: options.fullName, origin, work };
}

/** Pushes a branch; returns what the hook printed (`remote: kiln: …`). */
export async function pushBranch(
  repository: DemoRepository,
  branch: string,
): Promise<string[]> {
  const { stderr } = await git(repository.work, [
    'push',
    '--porcelain',
    'origin',
    `refs/heads/${branch}:refs/heads/${branch}`,
  ]);
  return stderr
    .split('\n')
    .filter((line) => line.includes('kiln:'))
    .map((line) => line.replace(/^remote:\s*/, '').trim());
}

export async function headOf(
  repository: DemoRepository,
  rev: string,
): Promise<string> {
  const { stdout } = await git(repository.work, [
    'rev-parse',
    '--verify',
    '--end-of-options',
    `${rev}^{commit}`,
  ]);
  return stdout.trim();
}

/**
 * A commit on `branch` (created from the current one when new) that
 * changes one parameter default of the train step (the line
 * `default: <old>` after `name: <parameter>`).
 */
export async function commitParameterChange(
  repository: DemoRepository,
  change: { branch: string; parameter: string; value: string },
): Promise<void> {
  const exists = await git(repository.work, [
    'branch',
    '--list',
    '--',
    change.branch,
  ]);
  await git(repository.work, [
    'switch',
    '--quiet',
    ...(exists.stdout.trim() ? [] : ['-c']),
    change.branch,
  ]);
  const file = join(repository.work, 'kiln.yaml');
  const text = await readFile(file, 'utf8');
  const pattern = new RegExp(
    `(- name: ${change.parameter}\\n(?:\\s+\\w+: .*\\n)*?\\s+default: ).*`,
  );
  if (!pattern.test(text)) {
    throw new Error(
      `kiln.yaml has no default for parameter ${change.parameter}`,
    );
  }
  await writeFile(file, text.replace(pattern, `$1${change.value}`));
  await git(repository.work, [
    'commit',
    '--quiet',
    '-am',
    `Try ${change.parameter}=${change.value}`,
  ]);
}

export interface PullRequestPayloadOptions {
  repository: DemoRepository;
  /** @defaultValue `opened` (`synchronize`: a new push to the branch) */
  action?: 'opened' | 'synchronize';
  number: number;
  title: string;
  headBranch: string;
  headSha: string;
  baseBranch: string;
  baseSha: string;
  sender: string;
}

/**
 * A `pull_request` payload shaped like GitHub's (the fields kiln and most
 * consumers read), for a branch of the same repository.
 */
export function buildPullRequestPayload(
  options: PullRequestPayloadOptions,
): Record<string, unknown> {
  const { repository } = options;
  const [owner = 'kiln-demo', name = 'iris'] = repository.fullName.split('/');
  const htmlUrl = `file://${repository.origin}`;
  const repo = {
    id: 1,
    name,
    full_name: repository.fullName,
    private: true,
    owner: { login: owner, type: 'Organization' },
    html_url: htmlUrl,
    clone_url: repository.origin,
    default_branch: options.baseBranch,
  };
  const user = { login: options.sender, type: 'User' };
  const now = new Date().toISOString();
  return {
    action: options.action ?? 'opened',
    number: options.number,
    pull_request: {
      number: options.number,
      state: 'open',
      title: options.title,
      html_url: `${htmlUrl}/pull/${options.number}`,
      user,
      created_at: now,
      updated_at: now,
      draft: false,
      head: {
        label: `${owner}:${options.headBranch}`,
        ref: options.headBranch,
        sha: options.headSha,
        user,
        repo,
      },
      base: {
        label: `${owner}:${options.baseBranch}`,
        ref: options.baseBranch,
        sha: options.baseSha,
        user,
        repo,
      },
    },
    repository: repo,
    sender: user,
  };
}
