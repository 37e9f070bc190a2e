#!/usr/bin/env node
/* global fetch, AbortSignal */
// Sends kiln (or anything that takes GitHub webhooks) one signed `push`
// delivery per updated ref, in GitHub's format. Called by the post-receive
// hook next to it with git's `<old> <new> <ref>` lines on stdin, inside the
// bare repository (GIT_DIR). Needs only node >= 18 and git.
//
// Settings, from the environment first, else from the repository's git
// config (`git config kiln.webhookUrl …` in the bare repository):
//   KILN_WEBHOOK_URL     kiln.webhookUrl     e.g. http://kiln:8080/webhooks/github
//   KILN_WEBHOOK_SECRET  kiln.webhookSecret  the same secret kiln has
//   KILN_REPOSITORY      kiln.repository     owner/name (default: from the path)
//   KILN_CLONE_URL       kiln.cloneUrl       URL kiln fetches from (default:
//                                            this repository's path, which
//                                            kiln accepts only with
//                                            KILN_ALLOW_LOCAL_REPOSITORIES)
//   KILN_PUSHER          kiln.pusher         who pushed (default: $USER)
// A delivery that fails is reported on stderr (the pusher sees it as
// `remote: …`); the push itself has already succeeded either way.
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ZERO = /^0+$/;
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const MAX_COMMITS = 20;
const TIMEOUT_MS = 10_000;

function git(args) {
  return execFileSync('git', args, {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function gitConfig(key) {
  try {
    return git(['config', '--get', key]).trim() || undefined;
  } catch {
    return undefined;
  }
}

function setting(env, key) {
  const value = process.env[env];
  return value ? value : gitConfig(key);
}

function repositoryDir() {
  return resolve(git(['rev-parse', '--absolute-git-dir']).trim());
}

/** `/srv/git/team/iris.git` → `team/iris`. */
function fullNameFromPath(dir) {
  const name = basename(dir).replace(/\.git$/, '') || 'repository';
  const owner = basename(dirname(dir)) || 'local';
  const clean = (text) => text.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 100);
  return `${clean(owner)}/${clean(name)}`;
}

function commitOf(sha) {
  try {
    return git(['rev-parse', '--verify', '--quiet', `${sha}^{commit}`]).trim();
  } catch {
    return null;
  }
}

const FIELD = '\u001f';
const RECORD = '\u001e';

function describeCommits(shas, repository) {
  if (shas.length === 0) return [];
  const format = ['%H', '%T', '%cI', '%an', '%ae', '%cn', '%ce', '%B'].join(
    FIELD,
  );
  const text = git([
    'show',
    '--no-patch',
    `--format=${format}${RECORD}`,
    ...shas,
  ]);
  return text
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [id, tree, time, an, ae, cn, ce, ...message] = record.split(FIELD);
      return {
        id,
        tree_id: tree,
        distinct: true,
        message: message.join(FIELD).trimEnd(),
        timestamp: time,
        url: `${repository.html_url}/commit/${id}`,
        author: { name: an, email: ae },
        committer: { name: cn, email: ce },
        ...changedFiles(id),
      };
    });
}

function changedFiles(sha) {
  const files = { added: [], removed: [], modified: [] };
  const text = git([
    'diff-tree',
    '--root',
    '--no-commit-id',
    '-r',
    '-z',
    '--name-status',
    sha,
  ]);
  const parts = text.split('\0').filter(Boolean);
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const status = parts[i];
    const path = parts[i + 1];
    if (status === 'A') files.added.push(path);
    else if (status === 'D') files.removed.push(path);
    else files.modified.push(path);
  }
  return files;
}

/**
 * Commits new to the repository with this push, oldest first, like GitHub.
 * A new ref lists what no ref had before the push: refs this push updated
 * are left out (they already point at the new commits when the hook runs),
 * except as far as earlier refs of the same push listed them. Not `--all`:
 * it includes HEAD, which may already point at the pushed commit.
 */
function pushedCommits({ before, after, pushedRefs, earlier }) {
  if (!commitOf(after)) return [];
  const args = ZERO.test(before)
    ? [
        'rev-list',
        '--reverse',
        after,
        '--not',
        ...pushedRefs.map((pushed) => `--exclude=${pushed}`),
        '--glob=refs/*',
        ...earlier.filter((sha) => !ZERO.test(sha)),
      ]
    : ['rev-list', '--reverse', `${before}..${after}`];
  try {
    return git(args).split('\n').filter(Boolean).slice(-MAX_COMMITS);
  } catch {
    // The old commit is gone (a rewritten history was pruned).
    return [commitOf(after)];
  }
}

/**
 * Builds the `push` payload for one ref update, with the fields GitHub
 * sends that consumers read (kiln reads ref, before, after, repository,
 * head_commit, sender).
 */
export function buildPushPayload({
  before,
  after,
  ref,
  settings,
  pushedRefs = [ref],
  earlier = [],
}) {
  const deleted = ZERO.test(after);
  const created = ZERO.test(before);
  const [owner, name] = settings.fullName.split('/');
  const repository = {
    id: Number.parseInt(
      createHmac('sha256', 'kiln')
        .update(settings.fullName)
        .digest('hex')
        .slice(0, 8),
      16,
    ),
    name,
    full_name: settings.fullName,
    private: true,
    owner: { name: owner, login: owner },
    html_url: settings.htmlUrl,
    url: settings.htmlUrl,
    clone_url: settings.cloneUrl,
    default_branch: settings.defaultBranch,
    master_branch: settings.defaultBranch,
    pushed_at: Math.floor(Date.now() / 1000),
  };
  const commits = deleted
    ? []
    : describeCommits(
        pushedCommits({ before, after, pushedRefs, earlier }),
        repository,
      );
  const headSha = deleted ? null : commitOf(after);
  const head =
    headSha === null
      ? null
      : (commits.find((commit) => commit.id === headSha) ??
        describeCommits([headSha], repository)[0] ??
        null);
  let forced = false;
  if (!created && !deleted && commitOf(before) && headSha) {
    try {
      git(['merge-base', '--is-ancestor', before, headSha]);
    } catch {
      forced = true;
    }
  }
  const person = {
    name: settings.pusher,
    email: `${settings.pusher}@localhost`,
  };
  return {
    ref,
    before,
    after,
    created,
    deleted,
    forced,
    base_ref: null,
    compare: `${settings.htmlUrl}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits,
    head_commit: head,
    repository,
    pusher: person,
    sender: { login: settings.pusher, type: 'User' },
  };
}

/** `sha256=<hex>` over the exact bytes sent. */
export function signBody(body, secret) {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function sendDelivery({ url, secret, event, payload }) {
  const body = JSON.stringify(payload);
  const delivery = randomUUID();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'kiln-post-receive/1',
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': delivery,
      'X-Hub-Signature-256': signBody(body, secret),
    },
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const answer = (await response.text()).slice(0, 500);
  return { delivery, status: response.status, answer };
}

function readSettings() {
  const dir = repositoryDir();
  const fullName =
    setting('KILN_REPOSITORY', 'kiln.repository') ?? fullNameFromPath(dir);
  if (!/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/.test(fullName)) {
    throw new Error(
      `repository name ${JSON.stringify(fullName)} is not owner/name: set git config kiln.repository`,
    );
  }
  let defaultBranch = 'main';
  try {
    defaultBranch = git(['symbolic-ref', '--short', 'HEAD']).trim() || 'main';
  } catch {
    // Detached HEAD in a bare repository: keep main.
  }
  const cloneUrl = setting('KILN_CLONE_URL', 'kiln.cloneUrl') ?? dir;
  return {
    url: setting('KILN_WEBHOOK_URL', 'kiln.webhookUrl'),
    secret: setting('KILN_WEBHOOK_SECRET', 'kiln.webhookSecret'),
    fullName,
    cloneUrl,
    htmlUrl: cloneUrl.startsWith('https://')
      ? cloneUrl.replace(/\.git$/, '')
      : `file://${dir}`,
    defaultBranch,
    pusher: (setting('KILN_PUSHER', 'kiln.pusher') ?? process.env.USER ?? 'git')
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 100),
  };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  const settings = readSettings();
  if (!settings.url || !settings.secret) {
    process.stderr.write(
      'kiln: no delivery sent: set KILN_WEBHOOK_URL and KILN_WEBHOOK_SECRET (or git config kiln.webhookUrl / kiln.webhookSecret in this repository)\n',
    );
    return 0;
  }
  let failures = 0;
  const updates = [];
  for (const line of (await readStdin()).split('\n')) {
    const [before, after, ref] = line.trim().split(/\s+/);
    if (!before || !after || !ref) continue;
    if (
      !OBJECT_ID.test(before) ||
      !OBJECT_ID.test(after) ||
      !ref.startsWith('refs/')
    ) {
      process.stderr.write(`kiln: skipped a malformed ref update line\n`);
      continue;
    }
    updates.push({ before, after, ref });
  }
  const pushedRefs = updates.map((update) => update.ref);
  for (const [index, { before, after, ref }] of updates.entries()) {
    try {
      const payload = buildPushPayload({
        before,
        after,
        ref,
        settings,
        pushedRefs,
        earlier: updates.slice(0, index).map((update) => update.after),
      });
      const result = await sendDelivery({
        url: settings.url,
        secret: settings.secret,
        event: 'push',
        payload,
      });
      const ok = result.status >= 200 && result.status < 300;
      if (!ok) failures += 1;
      process.stderr.write(
        `kiln: push of ${ref} ${ok ? 'delivered' : 'refused'} (${result.status}) ${result.answer}\n`,
      );
    } catch (error) {
      failures += 1;
      process.stderr.write(
        `kiln: push of ${ref} not delivered: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
  }
  return failures === 0 ? 0 : 1;
}

if (
  process.argv[1] &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  process.exitCode = await main();
}
