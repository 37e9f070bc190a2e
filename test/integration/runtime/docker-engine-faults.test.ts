/**
 * The Docker engine failing under a running step (reliability plan §8.3
 * F15/F16, issue 11 items 4–5), on an engine of the test's own that it can
 * kill and restart: a lost engine ends the step in bounded time as an
 * infrastructure failure (it stayed `started` for 45 minutes: the engine's
 * wait never ends when dockerd dies), an engine that comes back finds the
 * step followed again, and a graceful engine restart (which SIGTERMs every
 * container: exit 143) is the engine's doing, not "failed: exit code 143".
 */
import { randomUUID } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { RuntimeError } from '../../../src/runtime/runtime.js';
import type { OutputSink, StepSpec } from '../../../src/runtime/runtime.js';
import { describeEnd } from '../../../src/model/end-reason.js';
import {
  havePrivateDockerd,
  startPrivateDockerd,
  type PrivateDockerd,
} from '../../helpers/private-dockerd.js';
import { BUSYBOX_IMAGE, haveImage } from '../../helpers/services.js';

const ok = haveImage(BUSYBOX_IMAGE) && havePrivateDockerd();

function collect(): {
  sink: OutputSink;
  text(): string;
  saw(t: string): Promise<void>;
} {
  let text = '';
  const waiters: Array<() => void> = [];
  return {
    sink: {
      stdout(chunk) {
        text += chunk.toString();
        for (const wake of waiters.splice(0)) wake();
      },
      stderr() {},
    },
    text: () => text,
    async saw(marker) {
      const deadline = Date.now() + 30_000;
      while (!text.includes(marker)) {
        if (Date.now() > deadline)
          throw new Error(`no "${marker}" in ${JSON.stringify(text)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof RuntimeError ? error.code : String(error);
  }
}

describe.skipIf(!ok)('a Docker engine that fails under a step', () => {
  let engine: PrivateDockerd;
  let runtime: DockerRuntime;
  beforeAll(async () => {
    engine = await startPrivateDockerd();
    runtime = new DockerRuntime({
      docker: new Dockerode({ socketPath: engine.socketPath }),
      workerId: `test-${randomUUID().slice(0, 8)}`,
      engineCheckMs: 300,
      engineLostMs: 3_000,
    });
  }, 180_000);
  afterAll(async () => {
    await engine?.close();
  }, 120_000);

  function specFor(commands: string[]): StepSpec {
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
      labels: {},
      stopGraceMs: 1000,
    };
  }

  it('a killed engine that stays away ends the step as ENGINE_UNREACHABLE within the bound', async () => {
    const output = collect();
    const run = runtime.run(
      // `ready` comes a second after start: the engine has answered it.
      specFor(['sleep 1', 'echo ready', 'sleep 30']),
      output.sink,
    );
    run.catch(() => undefined);
    await output.saw('ready');
    const killedAt = Date.now();

    await engine.stop({ hard: true });

    try {
      expect(await codeOf(run)).toBe('ENGINE_UNREACHABLE');
      await expect(run).rejects.toThrow(/stopped answering .* retried/);
      expect(Date.now() - killedAt).toBeLessThan(15_000);
    } finally {
      await engine.start();
      await runtime.reapOrphans();
    }
  }, 90_000);

  it('an engine killed and started again stops the step as it comes back: an infrastructure failure, not exit code 137', async () => {
    const output = collect();
    const run = runtime.run(
      specFor(['sleep 1', 'echo ready', 'sleep 30']),
      output.sink,
    );
    run.catch(() => undefined);
    await output.saw('ready');

    await engine.stop({ hard: true });
    await engine.start();

    expect(['STOPPED_BY_ENGINE', 'ENGINE_UNREACHABLE']).toContain(
      await codeOf(run),
    );
  }, 90_000);

  it('with live restore, an engine killed and started again finds the step followed again; its exit 0 stands, with a note', async () => {
    const output = collect();
    const run = runtime.run(
      specFor(['sleep 1', 'echo ready', 'sleep 8', 'echo after-the-restart']),
      output.sink,
    );
    run.catch(() => undefined);
    await output.saw('ready');

    await engine.stop({ hard: true });
    await engine.start({ liveRestore: true });
    const result = await run;
    await engine.stop();
    await engine.start();

    expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
    expect(result.notes?.join('\n')).toMatch(/did not answer for about \d+ s/);
    expect(output.text()).toContain('after-the-restart');
  }, 90_000);

  it("a graceful engine restart (SIGTERM to every container) is the engine's failure, not exit code 143", async () => {
    const output = collect();
    const run = runtime.run(
      specFor(['sleep 1', 'echo ready', 'sleep 30']),
      output.sink,
    );
    run.catch(() => undefined);
    await output.saw('ready');

    await engine.stop();

    try {
      // The engine answered the wait (143) and then, going down, perhaps
      // not the questions after it: either way an infrastructure failure.
      expect(['STOPPED_BY_ENGINE', 'ENGINE_UNREACHABLE']).toContain(
        await codeOf(run),
      );
    } finally {
      await engine.start();
      await runtime.reapOrphans();
    }
  }, 90_000);

  it('a step that SIGTERMs itself ends "terminated", its own doing', async () => {
    const output = collect();

    const result = await runtime.run(specFor(['kill -TERM $$']), output.sink);

    expect(result.reason).toEqual({ kind: 'exited', exitCode: 143 });
    expect(describeEnd(result.reason)).toBe(
      'terminated: SIGTERM (exit code 143)',
    );
  }, 60_000);
});
