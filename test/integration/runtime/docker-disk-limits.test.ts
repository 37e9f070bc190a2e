/**
 * Per-execution disk limits on the real engine (issue 11 item 3): a step
 * that writes past its root-filesystem limit, or past its outputs limit,
 * is stopped while it runs — before it fills the worker's disk — and the
 * end says which limit, not "failed". Overlay2 on ext4 has no size option
 * (`--storage-opt size` needs xfs with project quotas), so the limit is
 * watched through the engine's own accounting of the writable layer.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import type { StepSpec } from '../../../src/runtime/runtime.js';
import { BUSYBOX_IMAGE, haveImage } from '../../helpers/services.js';

const ok = haveImage(BUSYBOX_IMAGE);
const MiB = 1024 * 1024;
const sink = { stdout: () => undefined, stderr: () => undefined };

describe.skipIf(!ok)('disk limits of a running step (real Docker)', () => {
  const docker = new Dockerode();
  const workerId = `test-${randomUUID().slice(0, 8)}`;
  const runtime = new DockerRuntime({ docker, workerId, diskCheckMs: 300 });
  const dirs: string[] = [];

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
      labels: { 'test.file': 'docker-disk-limits' },
      stopGraceMs: 1000,
      ...overrides,
    };
  }

  afterAll(async () => {
    await runtime.reapOrphans();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true })));
  });

  it('stops a step that writes past its root filesystem limit', async () => {
    const started = Date.now();

    const result = await runtime.run(
      specFor(['head -c 30000000 /dev/zero > /big', 'sleep 60'], {
        diskLimits: { rootfsBytes: 10 * MiB },
      }),
      sink,
    );

    expect(result.reason).toEqual({
      kind: 'disk-limit',
      what: 'root filesystem',
      limitBytes: 10 * MiB,
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('stops a step that writes past its outputs limit', async () => {
    const outputs = await mkdtemp(join(tmpdir(), 'kiln-disk-'));
    dirs.push(outputs);

    const result = await runtime.run(
      specFor(['head -c 30000000 /dev/zero > /out/big', 'sleep 60'], {
        mounts: [{ hostPath: outputs, containerPath: '/out', readOnly: false }],
        diskLimits: { outputs: { hostPath: outputs, maxBytes: 10 * MiB } },
      }),
      sink,
    );

    expect(result.reason).toEqual({
      kind: 'disk-limit',
      what: 'outputs',
      limitBytes: 10 * MiB,
    });
  }, 60_000);

  it('lets a step under its limits end by itself', async () => {
    const result = await runtime.run(
      specFor(['head -c 1000 /dev/zero > /small'], {
        diskLimits: { rootfsBytes: 10 * MiB },
      }),
      sink,
    );

    expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
  }, 60_000);
});
