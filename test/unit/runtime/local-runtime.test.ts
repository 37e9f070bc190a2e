import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../../src/runtime/local/local-runtime.js';
import type { OutputSink, StepSpec } from '../../../src/runtime/runtime.js';

const MB = 1024 * 1024;

function collect(onStdout?: (text: string) => void) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink: OutputSink = {
    stdout(chunk) {
      out.push(Buffer.from(chunk));
      onStdout?.(chunk.toString());
    },
    stderr(chunk) {
      err.push(Buffer.from(chunk));
    },
  };
  return {
    sink,
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
  };
}

/** True while the process runs (a zombie waiting for its reaper is dead). */
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

describe('LocalRuntime', () => {
  const runtime = new LocalRuntime();
  let root: string;
  let repository: string;
  let outputs: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kiln-local-runtime-'));
    repository = join(root, 'repository');
    outputs = join(root, 'outputs');
    await mkdir(repository);
    await mkdir(outputs);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function specFor(
    commands: string[],
    overrides: Partial<StepSpec> = {},
  ): StepSpec {
    return {
      executionId: 'local-test',
      attempt: 1,
      image: 'python:3.12',
      commands,
      env: {},
      workdir: '/valohai/repository',
      mounts: [],
      network: false,
      resources: {},
      labels: {},
      localPaths: {
        '/valohai/repository': repository,
        '/valohai/outputs': outputs,
      },
      ...overrides,
    };
  }

  it.each([
    { commands: ['true'], exitCode: 0 },
    { commands: ['exit 3'], exitCode: 3 },
  ])('reports exit code $exitCode', async ({ commands, exitCode }) => {
    const result = await runtime.run(specFor(commands), collect().sink);

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
    expect(output.stdout()).toBe('first-marker\n');
  });

  it('keeps stdout and stderr apart', async () => {
    const output = collect();

    await runtime.run(
      specFor(['echo to-out', 'echo to-err >&2', 'echo more-out']),
      output.sink,
    );

    expect(output.stdout()).toBe('to-out\nmore-out\n');
    expect(output.stderr()).toBe('to-err\n');
  });

  it('maps container paths in the working directory and env', async () => {
    const output = collect();

    await runtime.run(
      specFor(
        [
          'pwd',
          'echo "$VH_OUTPUTS_DIR"',
          'echo "$OTHER"',
          'echo x > "$VH_OUTPUTS_DIR/f.txt"',
        ],
        {
          env: {
            VH_OUTPUTS_DIR: '/valohai/outputs',
            OTHER: '/valohai/outputs-not-mapped',
          },
        },
      ),
      output.sink,
    );

    expect(output.stdout()).toBe(
      `${repository}\n${outputs}\n/valohai/outputs-not-mapped\n`,
    );
    expect(await readFile(join(outputs, 'f.txt'), 'utf8')).toBe('x\n');
  });

  it('passes env values verbatim and not the worker environment', async () => {
    const output = collect();
    const value = 'a b $HOME; echo injected `id`';
    process.env.KILN_TEST_WORKER_SECRET = 'secret';

    await runtime.run(
      specFor(
        ['printf "%s|%s" "$KILN_TEST_VALUE" "$KILN_TEST_WORKER_SECRET"'],
        {
          env: { KILN_TEST_VALUE: value },
        },
      ),
      output.sink,
    );
    delete process.env.KILN_TEST_WORKER_SECRET;

    expect(output.stdout()).toBe(`${value}|`);
  });

  it('stops a step at its time limit', async () => {
    const output = collect();

    const result = await runtime.run(
      specFor(['sleep 30', 'echo done-marker'], {
        timeLimitMs: 300,
        stopGraceMs: 2000,
      }),
      output.sink,
    );

    expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 300 });
    expect(result.exitCode).toBe(128 + 15);
    expect(output.stdout()).not.toContain('done-marker');
  });

  it('kills a step that ignores SIGTERM after the grace', async () => {
    const output = collect();

    const result = await runtime.run(
      specFor(['trap "" TERM; sleep 30; echo after-marker'], {
        timeLimitMs: 300,
        stopGraceMs: 300,
      }),
      output.sink,
    );

    expect(result.reason).toEqual({ kind: 'timed-out', afterMs: 300 });
    expect(result.exitCode).toBe(128 + 9);
    expect(output.stdout()).not.toContain('after-marker');
  });

  it('stops a step that prints nothing for too long', async () => {
    const output = collect();

    const result = await runtime.run(
      specFor(['echo started', 'sleep 30', 'echo done-marker'], {
        noOutputTimeoutMs: 300,
      }),
      output.sink,
    );

    expect(result.reason).toEqual({ kind: 'no-output', afterMs: 300 });
    expect(output.stdout()).toBe('started\n');
  });

  it('stops when the signal aborts', async () => {
    const abort = new AbortController();
    const output = collect((text) => {
      if (text.includes('started')) abort.abort();
    });

    const result = await runtime.run(
      specFor(['echo started', 'sleep 30', 'echo done-marker']),
      output.sink,
      abort.signal,
    );

    expect(result.reason).toEqual({ kind: 'stopped' });
    expect(output.stdout()).toBe('started\n');
  });

  it('does not start when the signal is already aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    const output = collect();

    const result = await runtime.run(
      specFor(['echo ran']),
      output.sink,
      abort.signal,
    );

    expect(result.reason).toEqual({ kind: 'stopped' });
    expect(output.stdout()).toBe('');
  });

  it('kills what the step left running in the background', async () => {
    const output = collect();

    await runtime.run(
      specFor([
        'sleep 30 >/dev/null 2>&1 &',
        // Until the forked shell has become `sleep`.
        'while [ "$(cat /proc/$!/comm)" != sleep ]; do :; done',
        'echo $!',
        'cat /proc/$!/comm',
      ]),
      output.sink,
    );
    const [pidText, comm] = output.stdout().trim().split('\n');
    const pid = Number(pidText);

    expect(comm).toBe('sleep');
    await expect.poll(() => isRunning(pid)).toBe(false);
  });

  it('streams 20 MB without a newline in many chunks', async () => {
    let bytes = 0;
    let chunks = 0;
    let largest = 0;
    const sink: OutputSink = {
      stdout(chunk) {
        bytes += chunk.length;
        chunks += 1;
        largest = Math.max(largest, chunk.length);
      },
      stderr() {},
    };

    const result = await runtime.run(
      specFor([`head -c ${20 * MB} /dev/zero`]),
      sink,
    );

    expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
    expect(bytes).toBe(20 * MB);
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

  it('refuses a working directory that does not exist on the host', async () => {
    const run = runtime.run(
      specFor(['true'], { workdir: '/valohai/unmapped' }),
      collect().sink,
    );

    await expect(run).rejects.toMatchObject({
      code: 'START_FAILED',
      message: expect.stringContaining('/valohai/unmapped'),
    });
  });

  it('says the image is not used', async () => {
    const prepared = await runtime.prepareImage('python:3.12');

    expect(prepared).toMatchObject({ image: 'python:3.12', digest: null });
    expect(prepared.note).toContain('not used');
    expect(await runtime.reapOrphans()).toBe(0);
    expect(await runtime.ping()).toBe(true);
  });
});
