import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { RuntimeError } from '../../../src/runtime/runtime.js';
import type { OutputSink, StepSpec } from '../../../src/runtime/runtime.js';
import { BUSYBOX_IMAGE, haveImage } from '../../helpers/services.js';

const ok = haveImage(BUSYBOX_IMAGE);
const MB = 1024 * 1024;

interface Collected {
  sink: OutputSink;
  stdout(): string;
  stderr(): string;
  stdoutChunks: number[];
}

function collect(onStdout?: (text: string) => void): Collected {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdoutChunks: number[] = [];
  return {
    sink: {
      stdout(chunk) {
        out.push(Buffer.from(chunk));
        stdoutChunks.push(chunk.length);
        onStdout?.(chunk.toString());
      },
      stderr(chunk) {
        err.push(Buffer.from(chunk));
      },
    },
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
    stdoutChunks,
  };
}

describe.skipIf(!ok)('DockerRuntime (real Docker)', () => {
  const docker = new Dockerode();
  // A worker id of our own: reaping never touches other test files' (or
  // other people's) containers on the shared engine.
  const workerId = `test-${randomUUID().slice(0, 8)}`;
  // Pull tries a moment apart, not 1–10 s: the registries here fail at once.
  const runtime = new DockerRuntime({
    docker,
    workerId,
    pullRetryDelayMs: () => 50,
  });
  const tempDirs: string[] = [];

  function specFor(
    commands: string[],
    overrides: Partial<StepSpec> = {},
  ): StepSpec {
    return {
      executionId: `t-${randomUUID()}`,
      attempt: 1,
      image: BUSYBOX_IMAGE,
      commands,
      env: {},
      workdir: '/',
      mounts: [],
      network: false,
      resources: {},
      labels: { 'test.file': 'docker-runtime' },
      ...overrides,
    };
  }

  async function containersOf(executionId: string) {
    return docker.listContainers({
      all: true,
      filters: { label: [`kiln.execution=${executionId}`] },
    });
  }

  async function makeTempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-runtime-'));
    tempDirs.push(dir);
    return dir;
  }

  afterAll(async () => {
    await runtime.reapOrphans();
    await Promise.all(
      tempDirs.map((dir) => rm(dir, { recursive: true, force: true })),
    );
  });

  describe('exit codes', () => {
    it.each([
      { commands: ['true'], exitCode: 0 },
      { commands: ['exit 3'], exitCode: 3 },
    ])('reports exit code $exitCode', async ({ commands, exitCode }) => {
      const output = collect();

      const result = await runtime.run(specFor(commands), output.sink);

      expect(result.reason).toEqual({ kind: 'exited', exitCode });
      expect(result.exitCode).toBe(exitCode);
    });

    it('ends at the first failing command', async () => {
      const output = collect();

      const result = await runtime.run(
        specFor(['echo first-marker', 'false', 'echo second-marker']),
        output.sink,
      );

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 1 });
      expect(output.stdout()).toContain('first-marker');
      expect(output.stdout()).not.toContain('second-marker');
    });
  });

  describe('limits', () => {
    it('stops a step at its time limit', async () => {
      const output = collect();

      const result = await runtime.run(
        specFor(['sleep 30', 'echo done-marker'], {
          timeLimitMs: 1000,
          stopGraceMs: 2000,
        }),
        output.sink,
      );

      expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 1000 });
      expect(output.stdout()).not.toContain('done-marker');
    });

    it('kills a step that ignores SIGTERM after the grace', async () => {
      const output = collect();

      const result = await runtime.run(
        specFor(['trap "" TERM; sleep 30; echo after-marker'], {
          timeLimitMs: 1000,
          stopGraceMs: 1000,
        }),
        output.sink,
      );

      expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 1000 });
      // 128 + SIGKILL: the TERM was ignored, the KILL was not.
      expect(result.exitCode).toBe(137);
      expect(output.stdout()).not.toContain('after-marker');
    });

    it('lets the running program see SIGTERM, not just the shell', async () => {
      const output = collect();

      const result = await runtime.run(
        specFor(
          [
            'echo started',
            `sh -c 'trap "echo program-got-term; exit 0" TERM; sleep 30 & wait'`,
          ],
          { timeLimitMs: 1000, stopGraceMs: 5000 },
        ),
        output.sink,
      );

      expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 1000 });
      expect(output.stdout()).toContain('program-got-term');
    });

    it('stops a step that prints nothing for too long', async () => {
      const output = collect();

      const result = await runtime.run(
        specFor(['echo started', 'sleep 30', 'echo done-marker'], {
          noOutputTimeoutMs: 1000,
          stopGraceMs: 2000,
        }),
        output.sink,
      );

      expect(result.reason).toEqual({ kind: 'no-output', afterMs: 1000 });
      expect(output.stdout()).toContain('started');
      expect(output.stdout()).not.toContain('done-marker');
    });

    it('reports out of memory with the limit', async () => {
      const output = collect();

      const result = await runtime.run(
        specFor(['dd if=/dev/zero of=/dev/null bs=64M count=1'], {
          resources: { memoryBytes: 16 * MB },
        }),
        output.sink,
      );

      expect(result.reason).toEqual({
        kind: 'out-of-memory',
        limitBytes: 16 * MB,
      });
    });

    it('applies the pids limit', async () => {
      const output = collect();

      const result = await runtime.run(
        specFor([
          'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
        ]),
        output.sink,
      );
      const custom = collect();
      await runtime.run(
        specFor(
          [
            'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
          ],
          {
            resources: { pidsLimit: 64 },
          },
        ),
        custom.sink,
      );

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(output.stdout().trim()).toBe('1024');
      expect(custom.stdout().trim()).toBe('64');
    });

    it('stops when the signal aborts', async () => {
      const abort = new AbortController();
      const output = collect((text) => {
        if (text.includes('started')) abort.abort();
      });

      const result = await runtime.run(
        specFor(['echo started', 'sleep 30', 'echo done-marker'], {
          stopGraceMs: 2000,
        }),
        output.sink,
        abort.signal,
      );

      expect(result.reason).toEqual({ kind: 'stopped' });
      expect(output.stdout()).not.toContain('done-marker');
    });
  });

  describe('output', () => {
    it('keeps stdout and stderr apart', async () => {
      const output = collect();

      await runtime.run(
        specFor(['echo to-out', 'echo to-err >&2', 'echo more-out']),
        output.sink,
      );

      expect(output.stdout()).toBe('to-out\nmore-out\n');
      expect(output.stderr()).toBe('to-err\n');
    });

    it('streams 20 MB without a newline in bounded chunks', async () => {
      const total = 20 * MB;
      let bytes = 0;
      let newlines = 0;
      let chunks = 0;
      let largest = 0;
      const sink: OutputSink = {
        stdout(chunk) {
          bytes += chunk.length;
          chunks += 1;
          largest = Math.max(largest, chunk.length);
          if (chunk.includes(10)) newlines += 1;
        },
        stderr() {},
      };

      const result = await runtime.run(
        specFor([`head -c ${total} /dev/zero`]),
        sink,
      );

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(bytes).toBe(total);
      expect(newlines).toBe(0);
      expect(chunks).toBeGreaterThan(20);
      expect(largest).toBeLessThanOrEqual(MB);
    });

    it('survives a sink that throws', async () => {
      const sink: OutputSink = {
        stdout() {
          throw new Error('sink broke');
        },
        stderr() {
          throw new Error('sink broke');
        },
      };

      const result = await runtime.run(
        specFor(['echo out', 'echo err >&2', 'exit 4']),
        sink,
      );

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 4 });
    });

    it('passes env values verbatim, never through a shell', async () => {
      const output = collect();
      const value = 'a b $HOME; echo injected `id`';

      await runtime.run(
        specFor(['printf "%s" "$KILN_TEST_VALUE"'], {
          env: { KILN_TEST_VALUE: value },
        }),
        output.sink,
      );

      expect(output.stdout()).toBe(value);
    });
  });

  describe('isolation', () => {
    it('mounts read-only and writable folders as asked', async () => {
      const readOnly = await makeTempDir();
      const writable = await makeTempDir();
      const output = collect();

      const result = await runtime.run(
        specFor(
          [
            'if touch /ro/x 2>/dev/null; then echo ro-writable; else echo ro-refused; fi',
            'echo written > /rw/out.txt',
          ],
          {
            mounts: [
              { hostPath: readOnly, containerPath: '/ro', readOnly: true },
              { hostPath: writable, containerPath: '/rw', readOnly: false },
            ],
          },
        ),
        output.sink,
      );

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(output.stdout()).toContain('ro-refused');
      expect(await readFile(join(writable, 'out.txt'), 'utf8')).toBe(
        'written\n',
      );
    });

    it('drops every capability and forbids new privileges', async () => {
      const output = collect();

      await runtime.run(
        specFor(['grep -E "^(CapEff|NoNewPrivs):" /proc/self/status']),
        output.sink,
      );

      expect(output.stdout()).toMatch(/^CapEff:\s+0000000000000000$/m);
      expect(output.stdout()).toMatch(/^NoNewPrivs:\s+1$/m);
    });
  });

  describe('container lifecycle', () => {
    it('removes the container after the run', async () => {
      const spec = specFor(['echo hi']);

      await runtime.run(spec, collect().sink);

      expect(await containersOf(spec.executionId)).toEqual([]);
    });

    it('labels the container and names it after the attempt', async () => {
      const spec = specFor(['sleep 30'], { attempt: 2 });
      const abort = new AbortController();
      let seen: Dockerode.ContainerInfo[] = [];
      const output = collect();
      const running = runtime.run(spec, output.sink, abort.signal);

      // Polls the engine (not a timer assertion) until the container shows.
      for (let i = 0; i < 100 && seen.length === 0; i += 1) {
        seen = await containersOf(spec.executionId);
        if (seen.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      abort.abort();
      await running;

      expect(seen).toHaveLength(1);
      expect(seen[0]?.Names).toEqual([`/kiln-${spec.executionId}-2`]);
      expect(seen[0]?.Labels).toMatchObject({
        'kiln.managed': 'true',
        'kiln.execution': spec.executionId,
        'kiln.attempt': '2',
        'kiln.worker': workerId,
        'test.file': 'docker-runtime',
      });
    });

    it('replaces a leftover container of the same attempt', async () => {
      const spec = specFor(['echo fresh']);
      const leftover = await docker.createContainer({
        name: `kiln-${spec.executionId}-1`,
        Image: BUSYBOX_IMAGE,
        Cmd: ['sleep', '300'],
        Labels: { 'kiln.managed': 'true', 'kiln.worker': workerId },
      });
      const output = collect();

      const result = await runtime.run(spec, output.sink);

      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(output.stdout()).toBe('fresh\n');
      await expect(leftover.inspect()).rejects.toMatchObject({
        statusCode: 404,
      });
    });

    it('reaps orphans and keeps the executions asked for', async () => {
      const orphanId = `orphan-${randomUUID()}`;
      const keptId = `kept-${randomUUID()}`;
      const create = (executionId: string) =>
        docker.createContainer({
          Image: BUSYBOX_IMAGE,
          Cmd: ['sleep', '300'],
          Labels: {
            'kiln.managed': 'true',
            'kiln.execution': executionId,
            'kiln.worker': workerId,
          },
        });
      await create(orphanId);
      const kept = await create(keptId);

      const removed = await runtime.reapOrphans(new Set([keptId]));

      expect(removed).toBe(1);
      expect(await containersOf(orphanId)).toEqual([]);
      expect(await containersOf(keptId)).toHaveLength(1);
      await kept.remove({ force: true });
    });

    it("never reaps another worker's attempt, running or just started (F28)", async () => {
      const other = new DockerRuntime({
        docker,
        workerId: `${workerId}-other`,
      });
      let started: () => void = () => undefined;
      const saw = new Promise<void>((resolve) => (started = resolve));
      const output = collect((text) => {
        if (text.includes('started')) started();
      });
      const spec = specFor(['echo started', 'sleep 30']);
      const stop = new AbortController();
      const running = other.run(spec, output.sink, stop.signal);
      await saw;

      // This worker starts (or restarts) and reaps with nothing active.
      const removed = await runtime.reapOrphans(new Set());

      expect(removed).toBe(0);
      expect(await containersOf(spec.executionId)).toHaveLength(1);
      stop.abort('stopped');
      await running.catch(() => undefined);
    });

    it('fails to start with a clear error and leaves nothing behind', async () => {
      const spec = specFor(['true'], {
        mounts: [
          {
            hostPath: `/nonexistent-${randomUUID()}`,
            containerPath: '/data',
            readOnly: true,
          },
        ],
      });

      const run = runtime.run(spec, collect().sink);

      await expect(run).rejects.toMatchObject({ code: 'START_FAILED' });
      expect(await containersOf(spec.executionId)).toEqual([]);
    });
  });

  describe('images', () => {
    it('returns the digest of a local image', async () => {
      const info = await docker.getImage(BUSYBOX_IMAGE).inspect();

      const prepared = await runtime.prepareImage(BUSYBOX_IMAGE);

      expect(prepared.image).toBe(BUSYBOX_IMAGE);
      expect(prepared.digest).toBe(info.Id);
    });

    it.each(['--privileged', 'alpine --net=host', 'Alpine', ''])(
      'refuses the image reference %j',
      async (image) => {
        const attempt = runtime.prepareImage(image);
        const run = runtime.run(specFor(['true'], { image }), collect().sink);

        await expect(attempt).rejects.toBeInstanceOf(RuntimeError);
        await expect(attempt).rejects.toMatchObject({
          code: 'IMAGE_UNAVAILABLE',
          message: expect.stringContaining('invalid image reference'),
        });
        await expect(run).rejects.toMatchObject({ code: 'IMAGE_UNAVAILABLE' });
      },
    );

    it('says how to fix a missing image that cannot be pulled', async () => {
      const image = `kiln-test/missing-${randomUUID().slice(0, 8)}:1`;

      const attempt = runtime.prepareImage(image);

      await expect(attempt).rejects.toMatchObject({
        code: 'IMAGE_UNAVAILABLE',
        message: expect.stringMatching(
          /not on this Docker host and pulling it failed( \(\d tries\))?: .+ — build or load it/,
        ),
      });
    });
  });

  describe('engine unreachable', () => {
    const socketPath = join(tmpdir(), `kiln-no-docker-${randomUUID()}.sock`);
    const offline = new DockerRuntime({ socketPath, workerId });

    it('answers ping with false', async () => {
      expect(await offline.ping()).toBe(false);
    });

    it('rejects with ENGINE_UNREACHABLE', async () => {
      const run = offline.run(specFor(['true']), collect().sink);
      const prepare = offline.prepareImage(BUSYBOX_IMAGE);

      await expect(run).rejects.toMatchObject({ code: 'ENGINE_UNREACHABLE' });
      await expect(prepare).rejects.toMatchObject({
        code: 'ENGINE_UNREACHABLE',
      });
    });
  });
});
