/**
 * `kiln run` end to end, as a user runs it: a real git checkout, real
 * Redis, the real Docker engine with the busybox test image, the CLI as a
 * subprocess. A two-node pipeline passes a file through an edge.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll, createRepo } from '../../helpers/git-repo.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';

const run = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');
const ready = haveRedis() && haveImage(BUSYBOX_IMAGE);

// A local tag without a version: the engine has it, so nothing is pulled.
const UNPINNED = `kiln-test/unpinned-${randomBytes(4).toString('hex')}`;

const CONFIG = `
- step:
    name: unpinned
    image: ${UNPINNED}
    command:
      - echo ran
- step:
    name: produce
    image: ${BUSYBOX_IMAGE}
    command:
      - echo preparing
      - 'for i in 1 2 3; do echo "{\\"epoch\\": $i, \\"loss\\": 0.$((10 - i))}"; done'
      - echo {parameter-value:greeting} > /valohai/outputs/data.txt
      - cat /valohai/config/parameters.json
    parameters:
      - name: greeting
        default: hello
- step:
    name: consume
    image: ${BUSYBOX_IMAGE}
    command:
      - cat /valohai/inputs/data/data.txt
      - 'echo "{\\"size\\": $(wc -c < /valohai/inputs/data/data.txt)}"'
    inputs:
      - name: data
- pipeline:
    name: flow-again
    nodes:
      - name: produce
        type: execution
        step: produce
      - name: consume
        type: execution
        step: consume
    edges:
      - [produce.output.data.txt, consume.input.data]
- step:
    name: fail
    image: ${BUSYBOX_IMAGE}
    command:
      - echo first
      - exit 3
      - echo never
- step:
    name: wait
    image: ${BUSYBOX_IMAGE}
    command:
      - echo waiting
      - sleep 120
- step:
    name: exact
    image: ${BUSYBOX_IMAGE}
    command:
      - test {parameter-value:n} = {parameter-value:expected}
      - 'grep -qF ''"n": {parameter-value:expected},'' /valohai/config/parameters.json'
      - 'grep -qx ''n: {parameter-value:expected}'' /valohai/config/parameters.yaml'
    parameters:
      - name: n
        type: integer
        default: 9007199254740993
      - name: expected
        default: "9007199254740993"
- pipeline:
    name: flow
    reuse-executions: true
    nodes:
      - name: produce
        type: execution
        step: produce
      - name: consume
        type: execution
        step: consume
    edges:
      - [produce.output.data.txt, consume.input.data]
`;

interface RunJson {
  run: {
    status: string;
    reason?: string;
    nodes: Array<{
      name: string;
      status: string;
      executionId?: string;
      message?: string;
    }>;
  };
  executions: Array<{
    id: string;
    step: string;
    status: string;
    metrics: Record<string, unknown>;
    outputs: Array<{
      path: string;
      sha256: string;
      size: number;
      datum: string;
    }>;
    inputs: Array<{ input: string; name: string; sha256: string; uri: string }>;
    parameters: Record<string, unknown>;
    endReason?: { kind: string; exitCode?: number };
    imageDigest: string | null;
    commit: string;
    notes?: string[];
  }>;
}

describe.skipIf(!ready)('kiln run (Docker)', () => {
  let redis: TestRedis;
  let repo: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    execFileSync('docker', ['tag', BUSYBOX_IMAGE, UNPINNED]);
    redis = await startTestRedis();
    repo = createRepo({ 'kiln.yaml': CONFIG, 'README.md': 'test\n' });
    dataDir = mkdtempSync(join(tmpdir(), 'kiln-data-'));
    env = {
      ...process.env,
      REDIS_URL: redis.url,
      KILN_DATA_DIR: dataDir,
      KILN_RUNTIME: 'docker',
      KILN_REDIS_PREFIX: 'kilnrun',
    };
  });

  afterAll(async () => {
    execFileSync('docker', ['rmi', UNPINNED]);
    await redis?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function kilnRun(
    ...args: string[]
  ): Promise<{ code: number; json?: RunJson; stderr: string; stdout: string }> {
    try {
      const { stdout, stderr } = await run(
        'node',
        [kiln, 'run', ...args, '--json', '-C', repo],
        { env, maxBuffer: 64 * 1024 * 1024 },
      );
      return { code: 0, json: JSON.parse(stdout) as RunJson, stderr, stdout };
    } catch (error) {
      const failure = error as { code: number; stdout: string; stderr: string };
      let json: RunJson | undefined;
      try {
        json = JSON.parse(failure.stdout) as RunJson;
      } catch {
        json = undefined;
      }
      return {
        code: failure.code,
        json,
        stderr: failure.stderr,
        stdout: failure.stdout,
      };
    }
  }

  it('runs a pipeline: metrics from stdout, an output passed through an edge, records kept', async () => {
    const result = await kilnRun(
      'flow',
      '--param',
      'produce.greeting=hi there',
    );

    expect(result.code, result.stderr).toBe(0);
    const { run: record, executions } = result.json!;
    expect(record.status).toBe('complete');
    const produce = executions.find((item) => item.step === 'produce')!;
    const consume = executions.find((item) => item.step === 'consume')!;
    expect(produce.metrics).toEqual({ epoch: 3, loss: 0.7 });
    expect(produce.parameters).toEqual({ greeting: 'hi there' });
    expect(produce.outputs).toEqual([
      expect.objectContaining({
        path: 'data.txt',
        size: 9,
        datum: expect.stringMatching(/^datum:\/\//),
      }),
    ]);
    expect(consume.inputs).toEqual([
      expect.objectContaining({
        input: 'data',
        name: 'data.txt',
        sha256: produce.outputs[0]!.sha256,
        uri: produce.outputs[0]!.datum,
      }),
    ]);
    expect(consume.metrics).toEqual({ size: 9 });
    expect(produce.imageDigest).toMatch(/^sha256:/);
    // A step that printed metrics ends plainly (row 46).
    expect(record.nodes.map((node) => node.message)).toEqual([
      'exited 0',
      'exited 0',
    ]);
    expect(produce.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reuses every node of the same pipeline at the same commit', async () => {
    const result = await kilnRun(
      'flow',
      '--param',
      'produce.greeting=hi there',
    );

    expect(result.code, result.stderr).toBe(0);
    expect(result.json!.run.nodes.map((node) => node.status)).toEqual([
      'reused',
      'reused',
    ]);
  });

  it('re-runs a run reusing its unchanged steps, or all of them, and records who read what', async () => {
    const first = await kilnRun('flow-again');
    expect(first.code, first.stderr).toBe(0);
    const runId = (first.json!.run as { id?: string }).id!;
    const rerun = async (...args: string[]) => {
      const { stdout } = await run(
        'node',
        [kiln, 'rerun', runId, '--json', ...args],
        { env, cwd: repo, maxBuffer: 64 * 1024 * 1024 },
      );
      return JSON.parse(stdout) as RunJson & {
        run: { trigger?: { rerunOf?: string; reuse?: boolean } };
      };
    };

    const reused = await rerun();
    expect(reused.run.trigger).toMatchObject({ rerunOf: runId, reuse: true });
    expect(reused.run.nodes.map((node) => node.status)).toEqual([
      'reused',
      'reused',
    ]);
    const again = await rerun('--no-reuse');
    expect(again.run.nodes.map((node) => node.status)).toEqual([
      'complete',
      'complete',
    ]);
    // Lineage: the consume step's read of produce's output is recorded.
    const { stdout } = await run(
      'node',
      [kiln, 'show', again.executions.find((e) => e.step === 'produce')!.id],
      { env, cwd: repo },
    );
    expect(stdout).toMatch(/data\.txt .*\(read by #\d+ consume\)/);
  });

  it('fails on the first failing command and records the exit code', async () => {
    const result = await kilnRun('fail');

    expect(result.code).toBe(1);
    const [execution] = result.json!.executions;
    expect(execution?.status).toBe('error');
    expect(execution?.endReason).toEqual({ kind: 'exited', exitCode: 3 });
    // Without --json the failed step's end and last lines are shown.
    const text = await run('node', [kiln, 'run', 'fail', '-C', repo], {
      env,
    }).catch((error: { stdout: string; code: number }) => error);
    expect(text.stdout).toMatch(
      /✗ fail \(#\d+\) failed: exit code 3\n {2}first\n/,
    );
  });

  it('refuses a dirty work tree unless --adhoc, which records a content hash', async () => {
    writeFileSync(join(repo, 'README.md'), 'changed\n');

    const refused = await kilnRun('produce');
    const adhoc = await kilnRun('produce', '--adhoc');
    commitAll(repo, 'readme');

    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /uncommitted changes \(README\.md\).*--adhoc/,
    );
    expect(adhoc.code, adhoc.stderr).toBe(0);
    expect(adhoc.json!.executions[0]?.commit).toMatch(/^~[0-9a-f]{64}$/);
  });

  it.each([
    [[], '9007199254740993'],
    [
      [
        '--param',
        'n=123456789012345678901234567890',
        '--param',
        'expected=123456789012345678901234567890',
      ],
      '123456789012345678901234567890',
    ],
  ])(
    'keeps every digit of an int beyond 2^53 (%j): command and /valohai/config',
    async (params, digits) => {
      const result = await kilnRun('exact', ...params);

      expect(result.code, result.stderr).toBe(0);
      const [execution] = result.json!.executions;
      // The commands above exit non-zero on any lost digit.
      expect(execution?.status).toBe('complete');
      expect(execution?.parameters).toEqual({ n: digits, expected: digits });
    },
  );

  it('stops the run on Ctrl-C and exits 130, as shells do', async () => {
    const child = spawn('node', [kiln, 'run', 'wait', '-C', repo], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    // Interrupted once the step runs (its first line is printed).
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 90_000;
      const check = setInterval(() => {
        if (stdout.includes('[wait] waiting')) {
          clearInterval(check);
          resolve();
        } else if (Date.now() > deadline || child.exitCode !== null) {
          clearInterval(check);
          reject(new Error(`the step never ran: ${stdout}${stderr}`));
        }
      }, 100);
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('kiln: stopping the run');
    expect(stdout).toMatch(/run #\d+ cancelled — interrupted \(Ctrl-C\)/);
  }, 150_000);

  it('says in the log and the notes that an image without a tag is not pinned, with the digest it ran (row 36)', async () => {
    const result = await kilnRun('unpinned');

    expect(result.code, result.stderr).toBe(0);
    const [execution] = result.json!.executions;
    expect(execution?.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const said = `image ${UNPINNED} is not pinned (no tag): the digest it ran, ${execution!.imageDigest}, is recorded; pin a tag or digest`;
    expect(execution?.notes).toEqual([said]);
    // It printed no metrics: complete, and said so (row 46).
    expect(execution?.status).toBe('complete');
    expect(result.json!.run.nodes[0]?.message).toBe('exited 0, no metrics');
    // `kiln logs` prints stderr lines (kiln's own among them) on stderr.
    const log = await run('node', [kiln, 'logs', execution!.id], { env });
    expect(log.stderr).toBe(`[kiln] ${said}\n`);
    expect(log.stdout).toBe('ran\n');
  });

  it('refuses an image without a tag with KILN_STEP_IMAGES_PINNED=true, before running it', async () => {
    const saved = env;
    env = { ...env, KILN_STEP_IMAGES_PINNED: 'true' };
    try {
      const result = await kilnRun('unpinned');

      expect(result.code).toBe(1);
      // Refused before a container (or an execution record) exists.
      expect(result.json!.executions).toEqual([]);
      const [node] = result.json!.run.nodes;
      expect(node?.status).toBe('error');
      expect(node?.message).toBe(
        `image "${UNPINNED}" of step "unpinned" is not pinned (no tag) and this kiln runs only pinned images (KILN_STEP_IMAGES_PINNED): give it a tag other than latest (name:1.2) or a digest (name@sha256:…)`,
      );
    } finally {
      env = saved;
    }
  });

  it('names an unknown parameter instead of running', async () => {
    const result = await kilnRun('produce', '--param', 'greting=x');

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/greting/);
  });
});
