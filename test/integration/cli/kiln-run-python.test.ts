/**
 * The iris example as a user runs it with `kiln run`: a real scikit-learn
 * training step in the Python image, reading its dataset as an input,
 * printing a metrics line per iteration, and writing a model that the
 * evaluate step receives through a pipeline edge.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll, git } from '../../helpers/git-repo.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveImage, haveRedis } from '../../helpers/services.js';

const run = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');
const IMAGE = 'kiln-examples/python-sklearn:1';
const ready = haveRedis() && haveImage(IMAGE);

interface Execution {
  id: string;
  step: string;
  status: string;
  metrics: Record<string, number>;
  outputs: Array<{ path: string; sha256: string }>;
  inputs: Array<{ input: string; name: string; sha256: string }>;
}

describe.skipIf(!ready)('kiln run of the iris example (Python image)', () => {
  let redis: TestRedis;
  let repo: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    redis = await startTestRedis();
    repo = mkdtempSync(join(tmpdir(), 'kiln-iris-'));
    cpSync(join(process.cwd(), 'pipelines', 'examples', 'iris'), repo, {
      recursive: true,
    });
    git(repo, 'init', '-q', '-b', 'main');
    commitAll(repo, 'iris');
    dataDir = mkdtempSync(join(tmpdir(), 'kiln-data-'));
    env = {
      ...process.env,
      REDIS_URL: redis.url,
      KILN_DATA_DIR: dataDir,
      KILN_RUNTIME: 'docker',
    };
  });

  afterAll(async () => {
    await redis?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('trains and evaluates: curves per iteration, the model through an edge', async () => {
    const { stdout } = await run(
      'node',
      [
        kiln,
        'run',
        'train-and-evaluate',
        '--param',
        'train.max_iter=12',
        '--json',
        '-C',
        repo,
      ],
      { env, maxBuffer: 64 * 1024 * 1024 },
    );
    const { run: record, executions } = JSON.parse(stdout) as {
      run: { status: string };
      executions: Execution[];
    };

    expect(record.status).toBe('complete');
    const train = executions.find((item) => item.step === 'train')!;
    const evaluate = executions.find((item) => item.step === 'evaluate')!;
    const model = train.outputs.find((file) => file.path === 'model.pkl');
    expect(model).toBeDefined();
    expect(evaluate.inputs).toContainEqual(
      expect.objectContaining({
        input: 'model',
        name: 'model.pkl',
        sha256: model!.sha256,
      }),
    );
    expect(evaluate.metrics.accuracy).toBeGreaterThan(0.6);
    expect(evaluate.metrics.f1).toBeGreaterThan(0.5);
    const { stdout: log } = await run('node', [kiln, 'logs', train.id], {
      env,
    });
    const iterations = log
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"iteration"'));
    expect(iterations).toHaveLength(12);
  });
});
