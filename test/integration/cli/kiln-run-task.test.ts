/**
 * `kiln run TASK` and `kiln show RUN[/TASK]` as a user types them: a real
 * git checkout, real Redis, Docker with the busybox test image, the CLI as
 * a subprocess. A 2×2 grid prints its best child; `kiln show` lists the
 * children with their parameters and metrics.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo } from '../../helpers/git-repo.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';

const exec = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');
const ready = haveRedis() && haveImage(BUSYBOX_IMAGE);

const CONFIG = `
- step:
    name: train
    image: ${BUSYBOX_IMAGE}
    command: >-
      printf '{"loss": %s}\\n' $(( {parameter-value:a} * 10 + {parameter-value:b} ))
    parameters:
      - {name: a, type: integer, default: 0}
      - {name: b, type: integer, default: 0}
- report:
    metrics:
      - {name: loss, goal: minimize}
- task:
    name: sweep
    step: train
    parameters:
      - {name: a, style: multiple, rules: {items: [2, 1]}}
      - {name: b, style: multiple, rules: {items: [5, 3]}}
`;

describe.skipIf(!ready)('kiln run TASK, kiln show RUN', () => {
  let redis: TestRedis;
  let repo: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    redis = await startTestRedis();
    repo = createRepo({ 'kiln.yaml': CONFIG });
    dataDir = mkdtempSync(join(tmpdir(), 'kiln-data-'));
    env = {
      ...process.env,
      REDIS_URL: redis.url,
      KILN_DATA_DIR: dataDir,
      KILN_RUNTIME: 'docker',
      KILN_REDIS_PREFIX: 'kilntask',
    };
  });
  afterAll(async () => {
    await redis?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the sweep, names the best child and shows every child', async () => {
    const { stdout } = await exec('node', [kiln, 'run', 'sweep', '-C', repo], {
      env,
    });

    expect(stdout).toMatch(
      /^task sweep · grid_search · step train · run r\w+$/m,
    );
    expect(stdout).toMatch(/^best {6}sweep#4: loss = 13 \(minimize\)$/m);
    expect(stdout).not.toMatch(/sweep@1/);
    const runId = /run (r\w+)$/m.exec(stdout)?.[1] as string;

    const shown = await exec('node', [kiln, 'show', runId], { env });

    expect(shown.stdout).toMatch(
      /^state {5}complete — 4 of 4 children complete$/m,
    );
    const rows = shown.stdout
      .split('\n')
      .filter((line) => line.startsWith('sweep#'))
      .map((line) => line.split(/\s{2,}/));
    expect(
      rows.map(([child, , state, a, b, loss]) => [child, state, a, b, loss]),
    ).toEqual([
      ['sweep#1', 'complete', '2', '5', '25'],
      ['sweep#2', 'complete', '2', '3', '23'],
      ['sweep#3', 'complete', '1', '5', '15'],
      ['sweep#4 *', 'complete', '1', '3', '13'],
    ]);

    const json = await exec(
      'node',
      [kiln, 'show', `${runId}/sweep`, '--json'],
      { env },
    );
    const task = JSON.parse(json.stdout) as {
      best: { name: string; value: number };
    };
    expect(task.best).toEqual({ name: 'sweep#4', value: 13 });
  }, 240_000);
});
