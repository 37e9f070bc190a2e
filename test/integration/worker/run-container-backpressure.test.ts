/**
 * A step printing faster than its log is stored (reliability plan §8.4 L6,
 * §8.2 rows 40–41): the worker stops reading its output while more than
 * `MAX_UNSTORED_LOG_BYTES` wait to be stored, so what it holds stays
 * bounded, and past the log size limit the rest is read at the step's own
 * speed with its metric lines still parsed. Real parts: a real
 * redis-server and its execution store (each write made slower, like a
 * loaded Redis), the local runtime's real processes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LOG_BYTES } from '../../../src/metrics/output-recorder.js';
import { LocalRuntime } from '../../../src/runtime/local/local-runtime.js';
import type {
  OutputSink,
  Runtime,
  StepSpec,
} from '../../../src/runtime/runtime.js';
import type { ExecutionStore } from '../../../src/store/execution-store.js';
import { createStores } from '../../../src/store/create-stores.js';
import {
  MAX_UNSTORED_LOG_BYTES,
  runContainer,
} from '../../../src/worker/run-container.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { haveRedis } from '../../helpers/services.js';

const MB = 1024 * 1024;
// 99 characters and a newline.
const LINE = `flood ${'x'.repeat(93)}`;

interface Measured {
  runtime: Runtime;
  executions: ExecutionStore;
  /** Most bytes read from the step and not yet stored, at any chunk. */
  maxUnstored(): number;
  /** Bytes read when each hold (a new `drained` promise) started. */
  holdsAt: number[];
  read(): number;
}

/**
 * The real local runtime and the real store, each looked at: bytes read
 * from the step, bytes of lines stored (each write `delayMs` slower).
 */
function measure(
  runtime: Runtime,
  store: ExecutionStore,
  delayMs: number,
): Measured {
  let read = 0;
  let stored = 0;
  let maxUnstored = 0;
  const holdsAt: number[] = [];
  const executions: ExecutionStore = Object.create(store) as ExecutionStore;
  executions.appendOutput = async (id, output) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const appended = await store.appendOutput(id, output);
    for (const line of output.lines ?? []) stored += line.text.length + 1;
    return appended;
  };
  const note = (chunk: Buffer): void => {
    read += chunk.length;
    // Past the log cap nothing is stored: only what is under it counts.
    const unstored = Math.min(read, DEFAULT_MAX_LOG_BYTES) - stored;
    maxUnstored = Math.max(maxUnstored, unstored);
  };
  const looked: Runtime = Object.create(runtime) as Runtime;
  looked.run = (spec: StepSpec, sink: OutputSink, signal?: AbortSignal) => {
    let last: Promise<void> | undefined;
    return runtime.run(
      spec,
      {
        stdout: (chunk) => {
          note(chunk);
          sink.stdout(chunk);
        },
        stderr: (chunk) => {
          note(chunk);
          sink.stderr(chunk);
        },
        drained: () => {
          const held = sink.drained?.();
          if (held !== undefined && held !== last) holdsAt.push(read);
          last = held;
          return held;
        },
      },
      signal,
    );
  };
  return {
    runtime: looked,
    executions,
    maxUnstored: () => maxUnstored,
    holdsAt,
    read: () => read,
  };
}

describe.skipIf(!haveRedis())(
  'runContainer: a step printing faster than its log is stored',
  () => {
    let redis: TestRedis;
    let client: Redis;
    let store: ExecutionStore;
    let workdir: string;
    const logger = pino({ level: 'silent' });

    beforeAll(async () => {
      redis = await startTestRedis();
      client = new Redis(redis.url);
      store = createStores(client, {
        prefix: `t${randomUUID().slice(0, 6)}`,
      }).executions;
      workdir = await mkdtemp(join(tmpdir(), 'kiln-flood-'));
    });
    afterAll(async () => {
      client?.disconnect();
      await redis?.close();
      await rm(workdir, { recursive: true, force: true });
    });

    function spec(commands: string[]): StepSpec {
      return {
        executionId: `t-${randomUUID()}`,
        attempt: 1,
        image: 'none',
        commands,
        env: {},
        workdir,
        mounts: [],
        network: false,
        resources: {},
        labels: {},
      };
    }

    it('holds the step back while its log waits to be stored: bounded, nothing lost', async () => {
      const lines = Math.floor((6 * MB) / 100);
      const measured = measure(new LocalRuntime(), store, 5);
      const step = spec([`yes '${LINE}' | head -n ${lines}`]);
      const outcome = await runContainer(
        { runtime: measured.runtime, executions: measured.executions, logger },
        {
          executionId: step.executionId,
          spec: step,
          secrets: [],
          signal: new AbortController().signal,
        },
      );
      expect(outcome.result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(measured.read()).toBe(lines * 100);
      expect(measured.holdsAt.length).toBeGreaterThan(0);
      // Without backpressure nearly all 6 MiB wait in memory.
      expect(measured.maxUnstored()).toBeLessThan(MAX_UNSTORED_LOG_BYTES + MB);
      // Every line stored, in order, or handed back with the end.
      let next = 0;
      let outOfOrder = 0;
      for (;;) {
        const page = await store.readLog(step.executionId, {
          afterSeq: next - 1,
          limit: 10_000,
        });
        if (page.length === 0) break;
        for (const line of page) if (line.seq !== next++) outOfOrder++;
      }
      expect(outOfOrder).toBe(0);
      expect(next + outcome.tail.lines.length).toBe(lines);
    }, 120_000);

    it('reads a flood past the log cap at its own speed, and still parses its metric lines', async () => {
      const lines = Math.floor((48 * MB) / 100);
      const measured = measure(new LocalRuntime(), store, 2);
      const step = spec([
        `echo '{"phase": 0}'`,
        `yes '${LINE}' | head -n ${lines}`,
        `echo '{"phase": 1}'`,
      ]);
      const outcome = await runContainer(
        { runtime: measured.runtime, executions: measured.executions, logger },
        {
          executionId: step.executionId,
          spec: step,
          secrets: [],
          signal: new AbortController().signal,
        },
      );
      expect(outcome.result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      // The metric line printed after the cap was parsed.
      expect(outcome.metrics).toEqual({ phase: 1 });
      expect(outcome.notes.join('\n')).toMatch(
        /bytes of log were not stored \(log size limit\)/,
      );
      // Held under the cap; past it (and the backlog at the cap stored) the
      // step is never held again.
      expect(measured.holdsAt.length).toBeGreaterThan(0);
      const pastCap = measured.holdsAt.filter(
        (at) => at > DEFAULT_MAX_LOG_BYTES + MAX_UNSTORED_LOG_BYTES,
      );
      expect(pastCap).toEqual([]);
      expect(measured.maxUnstored()).toBeLessThan(MAX_UNSTORED_LOG_BYTES + MB);
    }, 120_000);
  },
);
