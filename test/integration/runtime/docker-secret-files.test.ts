/**
 * `files` secret delivery (issue 11, "masking that holds"): through the real
 * engine a step reads its secret from the environment as before, its log
 * masks it, and `docker inspect` of the running container shows no value —
 * not in `Config.Env`, not in the mounts; the host folder is gone after.
 */
import { randomUUID } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutputRecorder } from '../../../src/metrics/output-recorder.js';
import type { LogLine } from '../../../src/model/log-line.js';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import type { RunResult, StepSpec } from '../../../src/runtime/runtime.js';
import { BUSYBOX_IMAGE, haveImage } from '../../helpers/services.js';

const ok = haveImage(BUSYBOX_IMAGE);
// Spaces, both quotes, newlines (trailing ones too), a command substitution
// and backticks that must stay text: executed, they would create /out/pwned.
const TOKEN = `s3cr3t "dq" 'sq' \\ $HOME\nline two $(touch /out/pwned) \`touch /out/pwned2\` end\n\n`;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function waitFor(
  condition: () => Promise<boolean>,
  what: string,
  deadlineMs = 30_000,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!ok)('secrets delivered as files (real Docker)', () => {
  const docker = new Dockerode();
  const workerId = `test-${randomUUID().slice(0, 8)}`;
  const tempDirs: string[] = [];
  let secretsDir = '';
  let runtime: DockerRuntime;

  async function makeTempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-secret-files-'));
    tempDirs.push(dir);
    return dir;
  }

  async function setUp(): Promise<void> {
    if (secretsDir !== '') return;
    secretsDir = await makeTempDir();
    runtime = new DockerRuntime({
      docker,
      workerId,
      secretsDelivery: 'files',
      secretsDir,
    });
  }

  function specFor(out: string, overrides: Partial<StepSpec>): StepSpec {
    return {
      executionId: `t-${randomUUID()}`,
      attempt: 1,
      image: BUSYBOX_IMAGE,
      commands: [],
      env: {},
      workdir: '/',
      mounts: [{ hostPath: out, containerPath: '/out', readOnly: false }],
      network: false,
      resources: {},
      labels: { 'test.file': 'docker-secret-files' },
      stopGraceMs: 1000,
      ...overrides,
    };
  }

  afterAll(async () => {
    await runtime?.reapOrphans();
    await Promise.all(
      tempDirs.map((dir) => rm(dir, { recursive: true, force: true })),
    );
  });

  it('reach the step as env, masked in its log, absent from docker inspect', async () => {
    await setUp();
    const out = await makeTempDir();
    const stored: LogLine[] = [];
    const recorder = createOutputRecorder({
      secrets: [TOKEN],
      onLogLines: (lines) => stored.push(...lines),
      onMetrics: () => undefined,
    });
    const spec = specFor(out, {
      commands: [
        `printf '%s' "$TOKEN" > /out/seen`,
        'echo "token: $TOKEN"',
        'echo "plain: $PLAIN"',
        'touch /out/ready',
        // The step holds here until the test has looked at the container.
        'while [ ! -e /out/go ]; do sleep 0.05; done',
        'echo done',
      ],
      env: { TOKEN, PLAIN: 'not-a-secret' },
      secretNames: ['TOKEN'],
    });
    const running: Promise<RunResult> = runtime.run(spec, recorder);
    const folder = join(secretsDir, workerId, `kiln-${spec.executionId}-1`);

    await waitFor(() => exists(join(out, 'ready')), 'the step to start');
    const info = await docker
      .getContainer(`kiln-${spec.executionId}-1`)
      .inspect();
    const inspected = JSON.stringify(info);
    for (const piece of ['s3cr3t', 'line two', 'touch /out/pwned']) {
      expect(inspected).not.toContain(piece);
    }
    expect(info.Config.Env.some((entry) => entry.startsWith('TOKEN='))).toBe(
      false,
    );
    expect(info.Config.Env).toContain('PLAIN=not-a-secret');
    expect(info.Mounts).toContainEqual(
      expect.objectContaining({
        Source: folder,
        Destination: '/run/kiln/secrets',
        RW: false,
      }),
    );
    // On the host: only the worker's user gets into the base folder.
    expect((await stat(join(secretsDir, workerId))).mode & 0o777).toBe(0o700);
    expect((await stat(folder)).mode & 0o777).toBe(0o555);
    expect(await readFile(join(folder, 'TOKEN'), 'utf8')).toBe(TOKEN);

    await writeFile(join(out, 'go'), '');
    const result = await running;
    recorder.end();

    expect(result.exitCode).toBe(0);
    expect(await readFile(join(out, 'seen'), 'utf8')).toBe(TOKEN);
    expect(await exists(join(out, 'pwned'))).toBe(false);
    expect(await exists(join(out, 'pwned2'))).toBe(false);
    const text = stored.map((line) => line.text).join('\n');
    expect(text).toContain('plain: not-a-secret');
    expect(text).toContain('done');
    expect(text).toMatch(/token: \*\*\*/);
    expect(text).not.toContain('s3cr3t');
    expect(await exists(folder)).toBe(false);
  }, 60_000);

  it('refuses a name the shell cannot export, leaving no folder', async () => {
    await setUp();
    const out = await makeTempDir();
    const spec = specFor(out, {
      commands: ['echo never'],
      env: { 'NOT-SHELL': 'value-of-a-bad-name' },
      secretNames: ['NOT-SHELL'],
    });
    await expect(
      runtime.run(spec, { stdout: () => undefined, stderr: () => undefined }),
    ).rejects.toMatchObject({
      code: 'START_FAILED',
      message: expect.stringContaining('"NOT-SHELL"'),
    });
    expect(
      await exists(join(secretsDir, workerId, `kiln-${spec.executionId}-1`)),
    ).toBe(false);
  });

  it('leave leftovers to the reaper', async () => {
    await setUp();
    const leftover = join(secretsDir, workerId, 'kiln-crashed-1');
    await mkdir(leftover, { recursive: true });
    await writeFile(join(leftover, 'TOKEN'), 'left behind');
    await runtime.reapOrphans();
    expect(await exists(leftover)).toBe(false);
  });
});
