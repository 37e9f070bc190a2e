/**
 * The REST API against a real server on real Redis, records written
 * through the stores; every JSON answer is checked against api/openapi.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis } from '../../helpers/services.js';
import { responseErrors } from './openapi-check.js';
import {
  executionIdOf,
  REPOSITORY,
  startWebFixture,
  type WebFixture,
} from './web-fixture.js';

describe.skipIf(!haveRedis())('REST API', () => {
  let fixture: WebFixture;

  beforeAll(async () => {
    fixture = await startWebFixture();
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  /** GET/POST as a token and check the answer against the document. */
  async function call(options: {
    path: string;
    documented: string;
    method?: 'get' | 'post';
    token?: string;
    body?: unknown;
  }): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fixture.request(options.path, {
      method: (options.method ?? 'get').toUpperCase(),
      token: options.token ?? fixture.viewerToken,
      body: options.body,
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(
      responseErrors({
        path: options.documented,
        method: options.method ?? 'get',
        status: response.status,
        body,
      }),
    ).toEqual([]);
    return { status: response.status, body };
  }

  async function runCount(): Promise<number> {
    return (await fixture.control.runs.listRuns({ limit: 1000 })).length;
  }

  it('lists runs newest first with filters and pages', async () => {
    const older = await fixture.seedRun({ ref: 'refs/heads/main' });
    const newer = await fixture.seedRun({
      ref: 'refs/heads/dev',
      status: 'error',
    });
    const all = await call({
      path: '/api/runs?limit=1',
      documented: '/api/runs',
    });
    expect(all.status).toBe(200);
    expect(
      (all.body.runs as Array<{ id: string }>).map((run) => run.id),
    ).toEqual([newer.id]);
    expect(all.body.hasMore).toBe(true);
    const next = await call({
      path: '/api/runs?limit=1&offset=1',
      documented: '/api/runs',
    });
    expect((next.body.runs as Array<{ id: string }>)[0]?.id).toBe(older.id);
    const dev = await call({
      path: '/api/runs?branch=dev',
      documented: '/api/runs',
    });
    expect(
      (dev.body.runs as Array<{ id: string }>).map((run) => run.id),
    ).toEqual([newer.id]);
    const failed = await call({
      path: `/api/runs?state=error&repository=${REPOSITORY}`,
      documented: '/api/runs',
    });
    expect(
      (failed.body.runs as Array<{ id: string }>).map((run) => run.id),
    ).toContain(newer.id);
    expect(
      (failed.body.runs as Array<{ status: string }>).every(
        (run) => run.status === 'error',
      ),
    ).toBe(true);
    const single = await call({
      path: `/api/runs/${older.id}`,
      documented: '/api/runs/{id}',
    });
    expect(single.body).toMatchObject({ id: older.id, commit: fixture.head });
  });

  it('answers bad input with 4xx JSON, never 500', async () => {
    for (const path of [
      '/api/runs?limit=abc',
      '/api/runs?limit=0',
      '/api/runs?limit=99999',
      '/api/runs?state=bogus',
      '/api/runs?repository=a&repository=b',
      '/api/executions/x/logs?after=nope',
    ]) {
      const response = await fixture.request(path, {
        token: fixture.viewerToken,
      });
      expect([400, 404]).toContain(response.status);
      expect(await response.json()).toHaveProperty('error');
    }
    const missing = await call({
      path: '/api/runs/nope',
      documented: '/api/runs/{id}',
    });
    expect(missing.status).toBe(404);
    const hostile = await fixture.request('/api/runs/..%2F..%2Fetc', {
      token: fixture.viewerToken,
    });
    expect(hostile.status).toBe(404);
    const notJson = await fixture.request('/api/runs', {
      method: 'POST',
      token: fixture.adminToken,
      body: '{"repository":',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      error: 'the request body is not valid JSON',
    });
    const unknown = await fixture.request('/api/nothing', {
      token: fixture.viewerToken,
    });
    expect(unknown.status).toBe(404);
  });

  it('serves an execution, its log pages, metrics and outputs', async () => {
    const content = 'weights\n';
    const file = join(fixture.artifactsDir, '..', 'model.bin');
    writeFileSync(file, content);
    const stored = await fixture.deps.artifacts!.put(file);
    const run = await fixture.seedRun(
      {},
      {
        executions: {
          train: {
            outputs: [
              {
                path: 'models/m ödel "1".bin',
                size: stored.size,
                sha256: stored.sha256,
                tags: [],
                datum: 'datum://d1',
              },
            ],
            metrics: { loss: 0.2 },
          },
        },
      },
    );
    const execution = { id: executionIdOf(run, 'train') };
    await fixture.control.executions.appendOutput(execution.id, {
      lines: [0, 1, 2].map((seq) => ({
        seq,
        time: new Date().toISOString(),
        stream: 'stdout' as const,
        text: `line ${seq}`,
      })),
      metrics: [
        { time: '2026-11-24T10:00:00.000Z', values: { step: 1, loss: 0.5 } },
        { time: '2026-11-24T10:00:01.000Z', values: { step: 2, loss: 0.2 } },
      ],
    });
    const got = await call({
      path: `/api/executions/${execution.id}`,
      documented: '/api/executions/{id}',
    });
    expect(got.body).toMatchObject({ id: execution.id, runId: run.id });
    const list = await call({
      path: `/api/runs/${run.id}/executions`,
      documented: '/api/runs/{id}/executions',
    });
    expect(
      (list.body.executions as Array<{ id: string }>).map((item) => item.id),
    ).toEqual([execution.id]);
    const page = await call({
      path: `/api/executions/${execution.id}/logs?after=0&limit=1`,
      documented: '/api/executions/{id}/logs',
    });
    expect(page.body).toMatchObject({
      lines: [{ seq: 1, text: 'line 1' }],
      next: 1,
      ended: true,
    });
    const metrics = await call({
      path: `/api/executions/${execution.id}/metrics`,
      documented: '/api/executions/{id}/metrics',
    });
    expect(metrics.body.final).toEqual({ loss: 0.2 });
    expect((metrics.body.events as unknown[]).length).toBe(2);
    const outputs = await call({
      path: `/api/executions/${execution.id}/outputs`,
      documented: '/api/executions/{id}/outputs',
    });
    expect((outputs.body.outputs as Array<{ sha256: string }>)[0]?.sha256).toBe(
      stored.sha256,
    );

    const download = await fixture.request(
      `/api/executions/${execution.id}/outputs/models/${encodeURIComponent('m ödel "1".bin')}`,
      { token: fixture.viewerToken },
    );
    expect(download.status).toBe(200);
    expect(download.headers.get('content-length')).toBe(String(content.length));
    const disposition = download.headers.get('content-disposition') ?? '';
    expect(disposition).toMatch(
      /^attachment; filename="m _del _1_.bin"; filename\*=UTF-8''/,
    );
    expect(disposition).not.toContain('"1"');
    expect(await download.text()).toBe(content);
    const absent = await fixture.request(
      `/api/executions/${execution.id}/outputs/..%2F..%2Fetc%2Fpasswd`,
      { token: fixture.viewerToken },
    );
    expect(absent.status).toBe(404);
  });

  it('streams a log over SSE, resumes after Last-Event-ID and ends with the execution', async () => {
    // A node a worker claimed: its execution ends when the worker says so.
    const { run, node, executionId } = await fixture.startRun();
    const store = fixture.control.executions;
    const line = (seq: number) => ({
      seq,
      time: new Date().toISOString(),
      stream: 'stdout' as const,
      text: `tick ${seq}`,
    });
    await store.appendOutput(executionId, { lines: [line(0), line(1)] });
    const response = await fixture.request(
      `/api/executions/${executionId}/logs/stream`,
      {
        token: fixture.viewerToken,
        headers: { 'last-event-id': '0' },
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    async function readUntil(fragment: string): Promise<void> {
      while (!text.includes(fragment)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${fragment}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    }
    await readUntil('tick 1');
    expect(text).not.toContain('tick 0');
    await store.appendOutput(executionId, { lines: [line(2)] });
    await readUntil('tick 2');
    await fixture.finishNode(run, node);
    await readUntil('event: end');
    const { done } = await reader.read();
    expect(done).toBe(true);
    expect(text).toContain('id: 2\nevent: line\n');
  });

  it('launches a step at a branch with parameter overrides', async () => {
    await fixture.seedRun();
    const before = await runCount();
    const created = await call({
      path: '/api/runs',
      documented: '/api/runs',
      method: 'post',
      token: fixture.adminToken,
      body: {
        repository: REPOSITORY,
        ref: 'main',
        name: 'train',
        parameters: { learning_rate: 0.5 },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      commit: fixture.head,
      ref: 'refs/heads/main',
      name: 'train',
      kind: 'step',
      parameters: { learning_rate: 0.5 },
      trigger: { event: 'api', sender: 'ci' },
    });
    expect(created.body.status).not.toBe('error');
    expect(await runCount()).toBe(before + 1);
  });

  it('keeps every digit of an integer parameter beyond 2^53', async () => {
    await fixture.seedRun();

    const created = await call({
      path: '/api/runs',
      documented: '/api/runs',
      method: 'post',
      token: fixture.adminToken,
      body: `{"repository": "${REPOSITORY}", "ref": "main", "name": "train", "parameters": {"epochs": 9007199254740993}}`,
    });

    expect(created.status).toBe(201);
    expect(created.body.status).not.toBe('error');
    // JSON has no exact number that size for JavaScript: the digits as text.
    expect(created.body.parameters).toEqual({ epochs: '9007199254740993' });
  });

  it('refuses bad launches with a message and creates nothing', async () => {
    await fixture.seedRun();
    const before = await runCount();
    const cases: Array<[unknown, number, RegExp]> = [
      [
        {
          repository: REPOSITORY,
          ref: 'main',
          name: 'train',
          parameters: { lr: 1 },
        },
        422,
        /"lr" is not a parameter/,
      ],
      [
        {
          repository: REPOSITORY,
          ref: 'main',
          name: 'train',
          parameters: { learning_rate: 'fast' },
        },
        422,
        /learning_rate/,
      ],
      [
        { repository: REPOSITORY, ref: 'main', name: 'nothing' },
        422,
        /nothing/,
      ],
      [
        { repository: REPOSITORY, ref: 'no-such-branch', name: 'train' },
        422,
        /no branch or tag/,
      ],
      [
        { repository: REPOSITORY, commit: 'f'.repeat(40), name: 'train' },
        422,
        /not available/,
      ],
      [
        { repository: 'someone/else', ref: 'main', name: 'train' },
        404,
        /does not know/,
      ],
      [
        {
          repository: REPOSITORY,
          ref: '--upload-pack=touch /tmp/x',
          name: 'train',
        },
        400,
        /ref/,
      ],
      [{ repository: REPOSITORY, name: 'train' }, 400, /ref/],
      [[1, 2], 400, /JSON object/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await call({
        path: '/api/runs',
        documented: '/api/runs',
        method: 'post',
        token: fixture.adminToken,
        body,
      });
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(String(answer.body.error)).toMatch(message);
    }
    expect(await runCount()).toBe(before);
  });

  it('re-runs, cancels and approves', async () => {
    const original = await fixture.seedRun({
      status: 'complete',
      parameters: { 'train.epochs': 5 },
      config: undefined,
    });
    // A run created through the orchestrator carries its stored configuration.
    const launched = await call({
      path: '/api/runs',
      documented: '/api/runs',
      method: 'post',
      token: fixture.adminToken,
      body: {
        repository: REPOSITORY,
        commit: fixture.head,
        name: 'train-evaluate',
        parameters: { 'train.epochs': 5 },
      },
    });
    expect(launched.status).toBe(201);
    const rerun = await call({
      path: `/api/runs/${String(launched.body.id)}/rerun`,
      documented: '/api/runs/{id}/rerun',
      method: 'post',
      token: fixture.adminToken,
    });
    expect(rerun.status).toBe(201);
    expect(rerun.body).toMatchObject({
      commit: fixture.head,
      parameters: { 'train.epochs': 5 },
      // It points at the run it repeats and reuses unchanged nodes.
      trigger: { event: 'rerun', rerunOf: launched.body.id, reuse: true },
    });
    const everything = await call({
      path: `/api/runs/${String(launched.body.id)}/rerun`,
      documented: '/api/runs/{id}/rerun',
      method: 'post',
      token: fixture.adminToken,
      body: { reuse: false },
    });
    expect(
      (everything.body.trigger as { reuse?: boolean }).reuse,
    ).toBeUndefined();
    expect(rerun.body.id).not.toBe(launched.body.id);
    const noConfig = await call({
      path: `/api/runs/${original.id}/rerun`,
      documented: '/api/runs/{id}/rerun',
      method: 'post',
      token: fixture.adminToken,
    });
    expect(noConfig.status).toBe(409);

    const cancelled = await call({
      path: `/api/runs/${String(rerun.body.id)}/cancel`,
      documented: '/api/runs/{id}/cancel',
      method: 'post',
      token: fixture.adminToken,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled by ci',
    });
    const again = await call({
      path: `/api/runs/${String(rerun.body.id)}/cancel`,
      documented: '/api/runs/{id}/cancel',
      method: 'post',
      token: fixture.adminToken,
    });
    expect(again.status).toBe(409);

    const held = await fixture.control.runs.getRun(String(launched.body.id));
    const waiting = await fixture.seedRun({
      status: 'waiting-approval',
      nodes: ['train', 'evaluate'].map((name, index) => ({
        name,
        step: name,
        index,
        status: 'pending' as const,
        attempt: 0,
        generation: 0,
      })),
      config: held!.config,
      name: 'train-evaluate',
    });
    const approved = await call({
      path: `/api/runs/${waiting.id}/approve`,
      documented: '/api/runs/{id}/approve',
      method: 'post',
      token: fixture.adminToken,
      body: { approver: 'octocat' },
    });
    expect(approved.status).toBe(200);
    expect(String(approved.body.reason)).toMatch(/approved by @octocat/);
    const twice = await call({
      path: `/api/runs/${waiting.id}/approve`,
      documented: '/api/runs/{id}/approve',
      method: 'post',
      token: fixture.adminToken,
    });
    expect(twice.status).toBe(409);
  });

  it('pages a log back from its end, and knows what came before', async () => {
    const run = await fixture.seedRun({}, { executions: { train: {} } });
    const id = executionIdOf(run, 'train');
    await fixture.control.executions.appendOutput(id, {
      lines: Array.from({ length: 30 }, (_, seq) => ({
        seq,
        time: new Date().toISOString(),
        stream: 'stdout' as const,
        text: `line ${seq}`,
      })),
    });
    const tail = await call({
      path: `/api/executions/${id}/logs?tail=true&limit=10`,
      documented: '/api/executions/{id}/logs',
    });
    expect((tail.body.lines as Array<{ seq: number }>)[0]?.seq).toBe(20);
    expect(tail.body).toMatchObject({ next: 29, hasBefore: true });
    const back = await call({
      path: `/api/executions/${id}/logs?before=20&limit=25`,
      documented: '/api/executions/{id}/logs',
    });
    expect(
      (back.body.lines as Array<{ seq: number }>).map((l) => l.seq),
    ).toEqual(Array.from({ length: 20 }, (_, seq) => seq));
    expect(back.body.hasBefore).toBe(false);
  });

  it('answers lineage: the producer of an input and the consumers of an output', async () => {
    const run = await fixture.seedRun(
      {},
      {
        executions: {
          train: {
            outputs: [
              {
                path: 'model.pkl',
                size: 3,
                sha256: 'b'.repeat(64),
                tags: [],
                datum: 'datum://d-api-lineage',
              },
            ],
          },
          evaluate: {
            inputs: [
              {
                input: 'model',
                name: 'model.pkl',
                uri: 'datum://d-api-lineage',
                size: 3,
                sha256: 'b'.repeat(64),
              },
              {
                input: 'data',
                name: 'iris.csv',
                uri: 'https://example.com/iris.csv',
                size: 9,
                sha256: 'c'.repeat(64),
              },
            ],
          },
        },
      },
    );
    const train = executionIdOf(run, 'train');
    const evaluate = executionIdOf(run, 'evaluate');
    await fixture.control.executions.registerDatum({
      id: 'd-api-lineage',
      sha256: 'b'.repeat(64),
      size: 3,
      path: 'model.pkl',
      executionId: train,
    });
    const produced = await call({
      path: `/api/executions/${train}/lineage`,
      documented: '/api/executions/{id}/lineage',
    });
    expect(produced.body.outputs).toEqual([
      expect.objectContaining({
        path: 'model.pkl',
        consumers: [
          expect.objectContaining({
            executionId: evaluate,
            node: 'evaluate',
            input: 'model',
          }),
        ],
      }),
    ]);
    const consumed = await call({
      path: `/api/executions/${evaluate}/lineage`,
      documented: '/api/executions/{id}/lineage',
    });
    expect(consumed.body.inputs).toEqual([
      expect.objectContaining({
        input: 'model',
        producer: expect.objectContaining({
          executionId: train,
          path: 'model.pkl',
        }),
      }),
      expect.objectContaining({ input: 'data', producer: null }),
    ]);
    const byCounter = await call({
      path: `/api/executions?repository=${encodeURIComponent(REPOSITORY)}&counter=${(await fixture.control.executions.getExecution(train))!.counter}`,
      documented: '/api/executions',
    });
    expect(
      (byCounter.body.executions as Array<{ id: string }>).map((e) => e.id),
    ).toEqual([train]);
  });

  it('compares a run with its base, previews a launch and makes tokens for this server', async () => {
    const run = await fixture.seedRun({}, { executions: { train: {} } });
    const compared = await call({
      path: `/api/runs/${run.id}/comparison`,
      documented: '/api/runs/{id}/comparison',
    });
    expect(compared.body).toMatchObject({
      runId: run.id,
      gate: 'not-applicable',
      status: { state: 'success' },
    });
    const preview = await call({
      path: '/api/runs/preview',
      documented: '/api/runs/preview',
      method: 'post',
      body: {
        repository: REPOSITORY,
        ref: 'main',
        name: 'train',
        parameters: { learning_rate: 0.5 },
      },
    });
    expect(preview.status).toBe(200);
    expect(
      (preview.body.plan as { nodes: Array<{ commands: string[] }> }).nodes[0]
        ?.commands[0],
    ).toContain('--learning_rate=0.5');
    const refused = await call({
      path: '/api/runs/preview',
      documented: '/api/runs/preview',
      method: 'post',
      body: { repository: REPOSITORY, ref: 'main', name: 'nope' },
    });
    expect(refused.status).toBe(422);

    const made = await call({
      path: '/api/tokens',
      documented: '/api/tokens',
      method: 'post',
      token: fixture.adminToken,
      body: { name: 'made-over-api', role: 'viewer' },
    });
    expect(made.status).toBe(201);
    const usable = await fixture.request('/api/runs', {
      token: String(made.body.token),
    });
    expect(usable.status).toBe(200);
    const byViewer = await call({
      path: '/api/tokens',
      documented: '/api/tokens',
      method: 'post',
      token: fixture.viewerToken,
      body: { name: 'nope' },
    });
    expect(byViewer.status).toBe(403);
    const listed = await call({
      path: '/api/tokens',
      documented: '/api/tokens',
      token: fixture.adminToken,
    });
    expect(
      (listed.body.tokens as Array<{ name: string }>).map((t) => t.name),
    ).toContain('made-over-api');
    const revoked = await fixture.request('/api/tokens/made-over-api', {
      method: 'DELETE',
      token: fixture.adminToken,
    });
    expect(revoked.status).toBe(200);
    expect(
      (await fixture.request('/api/runs', { token: String(made.body.token) }))
        .status,
    ).toBe(401);
  });

  it('streams a run live: its events, metric points and newest lines, then the end', async () => {
    const { run, node, executionId } = await fixture.startRun();
    const response = await fetch(
      `${fixture.url}/api/runs/${run.id}/live?after=0`,
      { headers: { authorization: `Bearer ${fixture.viewerToken}` } },
    );
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const waitFor = async (needle: string) => {
      const deadline = Date.now() + 10_000;
      while (!received.includes(needle)) {
        if (Date.now() > deadline)
          throw new Error(`no ${needle} in ${received}`);
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
    };
    await waitFor('event: node');
    await fixture.control.executions.appendOutput(executionId, {
      lines: [
        {
          seq: 0,
          time: new Date().toISOString(),
          stream: 'stdout',
          text: 'first line',
        },
      ],
      metrics: [{ time: new Date().toISOString(), values: { loss: 0.5 } }],
    });
    await waitFor('event: metrics');
    await waitFor('first line');
    expect(received).toMatch(
      /"from":0,"events":\[\{"time":"[^"]+","values":\{"loss":0\.5\}/,
    );
    await fixture.finishNode(run, node, 'error');
    await waitFor('event: end');
    expect(received).toMatch(/event: run\nid: |id: [^\n]+\nevent: run/);
    await reader.cancel();
  });

  it('lists repositories and deliveries', async () => {
    await fixture.seedRun();
    const repositories = await call({
      path: '/api/repositories',
      documented: '/api/repositories',
    });
    expect(repositories.body.repositories).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: REPOSITORY })]),
    );
    const deliveries = await call({
      path: '/api/deliveries',
      documented: '/api/deliveries',
    });
    expect(deliveries.body.deliveries).toEqual([]);
  });
});
