/**
 * `kiln token`, `submit [--follow]`, `status`, `compare`, `logs -f`,
 * `cancel`, `approve` and `rerun` as a user runs them (the real CLI in a
 * child process) against a real kiln server — and the read commands
 * (a sweep's `kiln show RUN/TASK` too) giving the same output and `--json`
 * from the local store and from the server.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/control/cancel-run.js';
import { createRun } from '../../../src/control/create-run.js';
import { driveSweep } from '../../helpers/drive-sweep.js';
import { haveRedis } from '../../helpers/services.js';
import {
  REPOSITORY,
  startWebFixture,
  type WebFixture,
} from '../web/web-fixture.js';

const run = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');

describe.skipIf(!haveRedis())('remote CLI commands', () => {
  let fixture: WebFixture;
  let dataDir: string;

  beforeAll(async () => {
    fixture = await startWebFixture();
    dataDir = mkdtempSync(join(tmpdir(), 'kiln-cli-remote-'));
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KILN_URL: fixture.url,
      KILN_TOKEN: fixture.adminToken,
      KILN_LOG_LEVEL: 'silent',
      ...extra,
    };
  }

  async function cli(args: string[], extra: Record<string, string> = {}) {
    return run('node', [kiln, ...args], { env: env(extra), timeout: 60_000 });
  }

  const local = () => ({
    REDIS_URL: fixture.redis.url,
    KILN_REDIS_PREFIX: 'kw',
    KILN_DATA_DIR: dataDir,
    KILN_URL: '',
  });

  it('creates, lists and revokes tokens locally, saying where, or on the server KILN_URL names', async () => {
    const created = await cli(
      ['token', 'create', '--name', 'airflow', '--role', 'viewer'],
      local(),
    );
    const token = created.stdout.trim();
    expect(token).toMatch(/^kiln_[A-Za-z0-9_-]{40,}$/);
    expect(created.stderr).toContain('shown only now');
    expect(created.stderr).toContain('in the local store (redis://');
    expect(created.stderr).toContain('prefix kw');
    expect(created.stderr).not.toContain('@');
    const listed = await cli(['token', 'list'], local());
    expect(listed.stdout).toMatch(/airflow\s+viewer/);
    expect(listed.stdout).not.toContain(token);
    expect((await fixture.request('/api/runs', { token })).status).toBe(200);
    await cli(['token', 'revoke', 'airflow'], local());
    expect((await fixture.request('/api/runs', { token })).status).toBe(401);

    // With KILN_URL the token is made by that server.
    const remote = await cli(['token', 'create', '--name', 'over-api']);
    expect(remote.stderr).toContain(`on ${fixture.url}`);
    const made = remote.stdout.trim();
    expect((await fixture.request('/api/runs', { token: made })).status).toBe(
      200,
    );
    expect((await cli(['token', 'list'])).stdout).toMatch(/over-api\s+viewer/);
    await cli(['token', 'revoke', 'over-api']);
    expect((await fixture.request('/api/runs', { token: made })).status).toBe(
      401,
    );
  });

  it('gives the same output and --json from the local store and from the server', async () => {
    const run = await fixture.seedRun(
      {},
      {
        executions: {
          train: {
            metrics: { loss: 0.2 },
            outputs: [
              {
                path: 'model.pkl',
                size: 4,
                sha256: 'a'.repeat(64),
                tags: ['best'],
                datum: 'datum://d-cli-same',
              },
            ],
          },
          evaluate: { metrics: { accuracy: 0.9 } },
        },
      },
    );
    const other = await fixture.seedRun(
      {},
      {
        executions: {
          train: { parameters: { learning_rate: 0.2, epochs: 3 } },
          evaluate: { metrics: { accuracy: 0.8 } },
        },
      },
    );
    const train = run.nodes[0]!.executionId!;
    await fixture.control.executions.appendOutput(train, {
      lines: [0, 1, 2].map((seq) => ({
        seq,
        time: new Date().toISOString(),
        stream: 'stdout' as const,
        text: `same line ${seq}`,
      })),
    });
    const counter = (await fixture.control.executions.getExecution(train))!
      .counter;
    const commands = [
      ['executions', '--json', '--limit', '5'],
      ['show', train, '--json'],
      ['show', `#${counter}`, '--repository', REPOSITORY],
      ['outputs', train, '--json'],
      ['logs', train],
      ['status', '--json'],
      ['status', run.id],
      ['compare', run.id, other.id, '--json'],
      ['compare', run.id, '--base', '--json'],
    ];
    for (const args of commands) {
      const [fromStore, fromServer] = await Promise.all([
        cli(args, local()),
        cli(args),
      ]);
      expect(fromServer.stdout, args.join(' ')).toBe(fromStore.stdout);
      expect(fromStore.stdout.length, args.join(' ')).toBeGreaterThan(0);
    }
    // Runs are aligned node by node; only real differences are marked.
    const compared = JSON.parse(
      (await cli(['compare', run.id, other.id, '--json'])).stdout,
    ) as { rows: Array<{ node: string; name: string; differs: boolean }> };
    expect(
      compared.rows
        .filter((row) => row.differs)
        .map((row) => `${row.node}.${row.name}`)
        .sort(),
    ).toEqual(['evaluate.accuracy', 'train.learning_rate']);
  });

  it('cancels, approves and re-runs runs on the server', async () => {
    const running = await fixture.seedRun({ status: 'running' });
    const cancelled = await cli(['cancel', running.id, '--json']);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      id: running.id,
      status: 'cancelled',
    });
    await expect(cli(['cancel', running.id])).rejects.toMatchObject({
      stderr: expect.stringContaining('already ended'),
    });
    const held = await fixture.seedRun({
      status: 'waiting-approval',
      nodes: ['train', 'evaluate'].map((name, index) => ({
        name,
        step: name,
        index,
        status: 'pending' as const,
        attempt: 0,
        generation: 0,
      })),
    });
    const approved = await cli([
      'approve',
      held.id,
      '--approver',
      'octocat',
      '--json',
    ]);
    expect(JSON.parse(approved.stdout).reason).toMatch(/approved by @octocat/);
    const rerun = await cli(['rerun', held.id, '--json']);
    expect(JSON.parse(rerun.stdout)).toMatchObject({
      trigger: { event: 'rerun', rerunOf: held.id, reuse: true },
    });
    const all = await cli(['rerun', held.id, '--no-reuse', '--json']);
    expect(JSON.parse(all.stdout).trigger.reuse).toBeUndefined();
    // Locally too (cancel on the store the server uses).
    const another = await fixture.seedRun({ status: 'running' });
    await cli(['cancel', another.id], local());
    expect((await fixture.control.runs.getRun(another.id))?.status).toBe(
      'cancelled',
    );
  });

  it('submits a run with a parameter and shows its status', async () => {
    await fixture.seedRun();
    const submitted = await cli([
      'submit',
      'train',
      '--repository',
      REPOSITORY,
      '--ref',
      'main',
      '--param',
      'epochs=7',
      '--json',
    ]);
    const created = JSON.parse(submitted.stdout) as {
      id: string;
      parameters: unknown;
    };
    expect(created.parameters).toEqual({ epochs: '7' });
    const stored = await fixture.control.runs.getRun(created.id);
    expect(stored?.parameters).toEqual({ epochs: '7' });
    const status = await cli(['status', created.id]);
    expect(status.stdout).toContain(`run ${created.id}`);
    expect(status.stdout).toMatch(/train\s+(pending|queued)/);
    const list = await cli(['status']);
    expect(list.stdout).toContain(created.id);
    await expect(
      cli(['submit', 'train', '--repository', REPOSITORY, '--param', 'nope=1']),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('"nope" is not a parameter'),
    });
    await expect(cli(['status'], { KILN_TOKEN: '' })).rejects.toMatchObject({
      stderr: expect.stringContaining('KILN_TOKEN'),
    });
  });

  it('compares executions side by side, marking differences', async () => {
    const a = await fixture.seedExecution({
      id: 'e-cli-a',
      parameters: { learning_rate: 0.1, epochs: 3 },
      metrics: { loss: 0.4 },
    });
    const b = await fixture.seedExecution({
      id: 'e-cli-b',
      parameters: { learning_rate: 0.2, epochs: 3 },
      metrics: { loss: 0.3 },
    });
    const { stdout } = await cli(['compare', a.id, b.id]);
    expect(stdout).toMatch(/\*learning_rate\s+0\.1\s+0\.2/);
    expect(stdout).toMatch(/ epochs\s+3\s+3/);
    expect(stdout).toMatch(/\*metric:loss\s+0\.4\s+0\.3/);
  });

  it('follows a log over the API until the execution ends', async () => {
    // A node a worker claimed: its execution ends when the worker says so.
    const { run: started, node, executionId } = await fixture.startRun();
    const store = fixture.control.executions;
    const line = (seq: number) => ({
      seq,
      time: new Date().toISOString(),
      stream: 'stdout' as const,
      text: `remote line ${seq}`,
    });
    await store.appendOutput(executionId, { lines: [line(0)] });
    const child = spawn('node', [kiln, 'logs', executionId, '-f'], {
      env: env(),
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', resolve),
    );
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('remote line 0')) resolve();
      });
    });
    await store.appendOutput(executionId, { lines: [line(1)] });
    await fixture.finishNode(started, node);
    expect(await exited).toBe(0);
    expect(output).toBe('remote line 0\nremote line 1\n');
  }, 60_000);

  it("shows a sweep's children the same from the local store and from the server", async () => {
    const created = await createRun(fixture.control, {
      repository: REPOSITORY,
      source: { id: REPOSITORY, url: fixture.repoDir },
      commit: fixture.head,
      name: 'sweep',
      configText: SWEEP_CONFIG,
      configFile: 'kiln.yaml',
    });
    const swept = await driveSweep(fixture.control, {
      run: created,
      task: 'sweep',
      metricsOf: (parameters) => ({ loss: Number(parameters.lr) * 10 }),
    });
    expect(swept.status).toBe('complete');
    for (const args of [
      ['show', swept.id, '--json'],
      ['show', `${swept.id}/sweep`, '--json'],
      ['show', `${swept.id}/sweep`],
    ]) {
      const [fromStore, fromServer] = await Promise.all([
        cli(args, local()),
        cli(args),
      ]);
      expect(fromServer.stdout, args.join(' ')).toBe(fromStore.stdout);
    }
    const task = JSON.parse(
      (await cli(['show', `${swept.id}/sweep`, '--json'])).stdout,
    ) as { children: unknown[]; best: { name: string; value: number } };
    expect(task.children).toHaveLength(3);
    expect(task.best.value).toBe(0.01);
    for (const extra of [local(), {}]) {
      await expect(
        cli(['show', `${swept.id}/nope`], extra),
      ).rejects.toMatchObject({
        stderr: expect.stringContaining('has no task node "nope"'),
      });
    }
  });

  it('follows a submitted run to its end (submit --follow)', async () => {
    await fixture.seedRun();
    const child = spawn(
      'node',
      [kiln, 'submit', 'train', '--repository', REPOSITORY, '--follow'],
      { env: env() },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', resolve),
    );
    const runId = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no run announced: ${stderr}`)),
        30_000,
      );
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /kiln: run (\S+) /.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    // Following: still running until the run ends.
    expect(child.exitCode).toBeNull();
    await cancelRun(fixture.control, { runId, reason: 'test ends it' });
    expect(await exited).toBe(1);
    expect(stdout).toMatch(/run #\d+ cancelled — test ends it/);
    expect(stdout).toContain(`${fixture.url}/runs/${runId}`);
  }, 60_000);
});

const SWEEP_CONFIG = `
- step:
    name: train
    image: busybox
    command: python train.py {parameters}
    parameters:
      - {name: lr, type: float, default: 0.1}
- report:
    metrics:
      - {name: loss, goal: minimize}
- task:
    name: sweep
    step: train
    parameters:
      - {name: lr, style: multiple, rules: {items: [0.001, 0.01, 0.1]}}
`;
