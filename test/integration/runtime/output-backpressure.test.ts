/**
 * The sink's backpressure (`OutputSink.drained`) on real steps: a slow sink
 * makes the runtime stop reading the step's output (bounded bytes waiting
 * in the sink) and read on once it drained; a held output blocks neither a
 * stop nor the time limit, and does not count as a quiet step. The local
 * runtime (real processes) and Docker (real containers).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { LocalRuntime } from '../../../src/runtime/local/local-runtime.js';
import type {
  OutputSink,
  Runtime,
  StepSpec,
} from '../../../src/runtime/runtime.js';
import { BUSYBOX_IMAGE, haveImage } from '../../helpers/services.js';

const MB = 1024 * 1024;
/** What the test sink lets wait before it asks the runtime to stop. */
const SINK_LIMIT = MB;
/**
 * Read ahead of a pause: the chunk that crossed the limit and what the
 * stream had already read (a pipe's or socket's buffer, one attach frame).
 */
const READ_AHEAD = MB;

interface SlowSink {
  sink: OutputSink;
  received(): number;
  /** The last bytes received. */
  tail(): string;
  /** Most bytes received and not yet taken, seen at any chunk. */
  maxBacklog(): number;
  /** How many times the sink asked the runtime to stop reading. */
  holds(): number;
  held(): boolean;
  /** Stops taking bytes (an absent store) until `go`. */
  stall(): void;
  go(): void;
  close(): void;
}

/** A sink that takes `bytesPerTick` every `tickMs`, like a slow store. */
function slowSink(options: { bytesPerTick: number; tickMs: number }): SlowSink {
  let received = 0;
  let last = Buffer.alloc(0);
  let taken = 0;
  let maxBacklog = 0;
  let holds = 0;
  let stalled = false;
  let waiting: { promise: Promise<void>; resolve: () => void } | null = null;
  const timer = setInterval(() => {
    if (stalled) return;
    taken = Math.min(received, taken + options.bytesPerTick);
    if (waiting !== null && received - taken <= SINK_LIMIT / 2) {
      waiting.resolve();
      waiting = null;
    }
  }, options.tickMs);
  const take = (chunk: Buffer): void => {
    received += chunk.length;
    last = Buffer.concat([last, chunk]).subarray(-16);
    maxBacklog = Math.max(maxBacklog, received - taken);
  };
  return {
    sink: {
      stdout: take,
      stderr: take,
      drained() {
        if (received - taken <= SINK_LIMIT && !stalled) return undefined;
        if (waiting === null) {
          holds++;
          let resolve!: () => void;
          const promise = new Promise<void>((done) => (resolve = done));
          waiting = { promise, resolve };
        }
        return waiting.promise;
      },
    },
    received: () => received,
    tail: () => last.toString(),
    maxBacklog: () => maxBacklog,
    holds: () => holds,
    held: () => waiting !== null,
    stall: () => (stalled = true),
    go: () => (stalled = false),
    close: () => clearInterval(timer),
  };
}

async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(
      stat.lastIndexOf(')') + 2,
      stat.lastIndexOf(')') + 3,
    );
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

interface Subject {
  name: string;
  runtime: Runtime;
  spec(commands: string[], overrides?: Partial<StepSpec>): StepSpec;
  /** True once the step of `spec` no longer runs. */
  stepGone(spec: StepSpec, pidFile: string): Promise<boolean>;
  /** Where the step writes its pid file, and where the test reads it. */
  pidPaths(): Promise<{ inStep: string; onHost: string }>;
  cleanup(): Promise<void>;
}

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-backpressure-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(
    tempDirs.map((dir) => rm(dir, { recursive: true, force: true })),
  );
});

function baseSpec(
  image: string,
  commands: string[],
  overrides: Partial<StepSpec>,
): StepSpec {
  return {
    executionId: `t-${randomUUID()}`,
    attempt: 1,
    image,
    commands,
    env: {},
    workdir: '/',
    mounts: [],
    network: false,
    resources: {},
    labels: { 'test.file': 'output-backpressure' },
    ...overrides,
  };
}

const local: Subject = {
  name: 'LocalRuntime',
  runtime: new LocalRuntime(),
  spec: (commands, overrides = {}) => baseSpec('none', commands, overrides),
  async stepGone(_spec, pidFile) {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    return !isRunning(pid);
  },
  async pidPaths() {
    const dir = await tempDir();
    return { inStep: join(dir, 'pid'), onHost: join(dir, 'pid') };
  },
  cleanup: async () => undefined,
};

const docker = new Dockerode();
const dockerSubject: Subject = {
  name: 'DockerRuntime',
  runtime: new DockerRuntime({
    docker,
    workerId: `test-${randomUUID().slice(0, 8)}`,
  }),
  spec: (commands, overrides = {}) =>
    baseSpec(BUSYBOX_IMAGE, commands, overrides),
  async stepGone(spec) {
    const found = await docker.listContainers({
      all: true,
      filters: { label: [`kiln.execution=${spec.executionId}`] },
    });
    return found.every((container) => container.State !== 'running');
  },
  async pidPaths() {
    return { inStep: '/tmp/pid', onHost: '' };
  },
  cleanup: async () => {
    await dockerSubject.runtime.reapOrphans();
  },
};

const subjects: Subject[] = [local];
if (haveImage(BUSYBOX_IMAGE)) subjects.push(dockerSubject);

describe.each(subjects)('$name: the sink holds the output', (subject) => {
  afterAll(() => subject.cleanup());

  it('stops reading while the sink is full, reads on once it drained, and delivers every byte', async () => {
    const size = 16 * MB;
    // About 12 MB/s: a flood outruns it.
    const slow = slowSink({ bytesPerTick: 256 * 1024, tickMs: 20 });
    try {
      const result = await subject.runtime.run(
        subject.spec([`head -c ${size} /dev/zero`]),
        slow.sink,
      );
      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(slow.received()).toBe(size);
      // It was held, more than once, and never let more than the limit
      // (plus what was already read) wait in the sink.
      expect(slow.holds()).toBeGreaterThan(1);
      expect(slow.maxBacklog()).toBeGreaterThan(SINK_LIMIT);
      expect(slow.maxBacklog()).toBeLessThanOrEqual(SINK_LIMIT + READ_AHEAD);
    } finally {
      slow.close();
    }
  }, 60_000);

  it('keeps the last output of a step that ends while its output is held', async () => {
    // Held from the first chunk for 3 s: the step's short output fits in
    // the pipes, so it exits meanwhile (the Docker engine drops what was
    // not read 2 s after the exit).
    const slow = slowSink({ bytesPerTick: 256 * 1024, tickMs: 20 });
    slow.stall();
    const going = setTimeout(() => slow.go(), 3_000);
    try {
      const result = await subject.runtime.run(
        subject.spec(['head -c 100000 /dev/zero; echo LAST']),
        slow.sink,
      );
      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(slow.holds()).toBeGreaterThan(0);
      expect(slow.received()).toBe(100_005);
      expect(slow.tail()).toMatch(/LAST\n$/);
    } finally {
      clearTimeout(going);
      slow.close();
    }
  }, 60_000);

  it('stops a step whose output is held, while it is held', async () => {
    const slow = slowSink({ bytesPerTick: 256 * 1024, tickMs: 20 });
    const pid = await subject.pidPaths();
    const spec = subject.spec([
      `echo $$ > ${pid.inStep}; exec head -c ${256 * MB} /dev/zero`,
    ]);
    const stop = new AbortController();
    try {
      const running = subject.runtime.run(spec, slow.sink, stop.signal);
      await until('the sink holds the output', () => slow.received() > 0);
      slow.stall();
      await until('the sink holds the output', () => slow.held());
      stop.abort();
      // The step is stopped while its output is still held.
      await until('the step is stopped', () =>
        subject.stepGone(spec, pid.onHost),
      );
      expect(slow.held()).toBe(true);
      slow.go();
      const result = await running;
      expect(result.reason).toEqual({ kind: 'stopped' });
      expect(slow.received()).toBeLessThan(256 * MB);
    } finally {
      slow.close();
    }
  }, 60_000);

  it('applies the time limit while the output is held', async () => {
    const slow = slowSink({ bytesPerTick: 256 * 1024, tickMs: 20 });
    slow.stall();
    const pid = await subject.pidPaths();
    const spec = subject.spec(
      [`echo $$ > ${pid.inStep}; exec head -c ${256 * MB} /dev/zero`],
      { timeLimitMs: 1_500, stopGraceMs: 1_000 },
    );
    try {
      const running = subject.runtime.run(spec, slow.sink);
      await until('the sink holds the output', () => slow.held());
      // Held from the start: the step is stopped at its limit meanwhile.
      await until('the step is stopped', () =>
        subject.stepGone(spec, pid.onHost),
      );
      expect(slow.held()).toBe(true);
      slow.go();
      const result = await running;
      expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 1_500 });
    } finally {
      slow.close();
    }
  }, 60_000);

  it('does not count held time as a quiet step (no-output limit)', async () => {
    const slow = slowSink({ bytesPerTick: 256 * 1024, tickMs: 20 });
    slow.stall();
    try {
      const running = subject.runtime.run(
        subject.spec([`head -c ${4 * MB} /dev/zero`], {
          noOutputTimeoutMs: 600,
        }),
        slow.sink,
      );
      await until('the sink holds the output', () => slow.held());
      // Held for three times the no-output limit while the step prints.
      await new Promise((resolve) => setTimeout(resolve, 1_800));
      slow.go();
      const result = await running;
      expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
      expect(slow.received()).toBe(4 * MB);
    } finally {
      slow.close();
    }
  }, 60_000);
});
