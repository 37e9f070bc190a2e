/**
 * M4, per-step container overhead (docs benchmarks.md §9 M4): the subject
 * is `DockerRuntime` doing a whole step — `prepareImage`, then `run` (remove
 * any leftover, create with kiln's hardening, attach, start, wait, inspect,
 * remove) — for busybox `echo '{"loss":0.1}'`. The baseline is a minimal
 * Engine-API script on the same engine, image, command and network mode
 * (`none`): create → attach → start → wait → remove. Interleaved, after a
 * warm-up. Target: time ratio ≤ 1.2.
 *
 * Needs Docker and `kiln-test/busybox:1` (scripts/build-test-images.sh).
 *
 *   npx tsx bench/step-overhead.bench.ts   (or npm run bench:runtime)
 */
import { randomUUID } from 'node:crypto';
import Dockerode from 'dockerode';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime.js';
import type { StepSpec } from '../src/runtime/runtime.js';
import { runBenchmark } from './harness.js';

const IMAGE = 'kiln-test/busybox:1';
const COMMAND = `echo '{"loss":0.1}'`;
const EXPECTED = '{"loss":0.1}\n';

const docker = new Dockerode();
const workerId = `bench-${randomUUID().slice(0, 8)}`;
const runtime = new DockerRuntime({ docker, workerId });

async function runSubject(): Promise<void> {
  let stdout = '';
  await runtime.prepareImage(IMAGE);
  const spec: StepSpec = {
    executionId: `bench-${randomUUID()}`,
    attempt: 1,
    image: IMAGE,
    commands: [COMMAND],
    env: {},
    workdir: '/',
    mounts: [],
    network: false,
    resources: {},
    labels: {},
  };
  const result = await runtime.run(spec, {
    stdout: (chunk) => {
      stdout += chunk.toString();
    },
    stderr: () => undefined,
  });
  check(result.exitCode, stdout);
}

async function runBaseline(): Promise<void> {
  let stdout = '';
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['/bin/sh', '-c', COMMAND],
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    const stream = await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
    });
    const ended = new Promise<void>((resolve) => {
      stream.once('end', () => resolve());
      stream.once('close', () => resolve());
    });
    docker.modem.demuxStream(
      stream,
      {
        write: (chunk: Buffer) => {
          stdout += chunk.toString();
          return true;
        },
      } as unknown as NodeJS.WritableStream,
      { write: () => true } as unknown as NodeJS.WritableStream,
    );
    await container.start();
    const waited = (await container.wait()) as { StatusCode: number };
    await ended;
    check(waited.StatusCode, stdout);
  } finally {
    await container.remove({ force: true });
  }
}

/** Both sides must really run the step, or the ratio means nothing. */
function check(exitCode: number | null, stdout: string): void {
  if (exitCode !== 0 || stdout !== EXPECTED) {
    throw new Error(
      `step failed: exit ${exitCode}, stdout ${JSON.stringify(stdout)}`,
    );
  }
}

async function main(): Promise<void> {
  if (!(await runtime.ping())) {
    throw new Error('no Docker engine answers: start dockerd');
  }
  await runtime.prepareImage(IMAGE);
  try {
    const result = await runBenchmark({
      id: 'M4',
      name: 'step-overhead',
      subject: runSubject,
      baseline: runBaseline,
      repetitions: 15,
      targetRatio: 1.2,
      details: { image: IMAGE, command: COMMAND, networkMode: 'none' },
    });
    if (!result.pass) process.exitCode = 1;
  } finally {
    await runtime.reapOrphans();
  }
}

await main();
