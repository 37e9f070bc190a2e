import { describe, expect, it } from 'vitest';
import { NullRuntime } from '../../../src/runtime/null-runtime.js';
import type { StepSpec } from '../../../src/runtime/runtime.js';
import { readSettings } from '../../../src/settings.js';

const spec: StepSpec = {
  executionId: 'r1-0-3',
  attempt: 3,
  image: 'busybox',
  commands: ['exit 1'],
  env: {},
  workdir: '/valohai/repository',
  mounts: [],
  network: false,
  resources: {},
  labels: {},
};

describe('NullRuntime', () => {
  it('prints one metric line and succeeds without running the commands', async () => {
    const out: string[] = [];
    const result = await new NullRuntime().run(spec, {
      stdout: (chunk) => out.push(chunk.toString()),
      stderr: () => undefined,
    });
    expect(result.reason).toEqual({ kind: 'exited', exitCode: 0 });
    expect(out).toEqual(['{"attempt":3,"ok":1}\n']);
  });

  it('reports a stop when aborted before it starts', async () => {
    const abort = new AbortController();
    abort.abort();
    const out: string[] = [];
    const result = await new NullRuntime().run(
      spec,
      {
        stdout: (chunk) => out.push(chunk.toString()),
        stderr: () => undefined,
      },
      abort.signal,
    );
    expect(result.reason).toEqual({ kind: 'stopped' });
    expect(out).toEqual([]);
  });

  it('is chosen only by KILN_RUNTIME=null, with lock and grace settings', () => {
    const settings = readSettings({
      KILN_DATA_DIR: '/tmp/kiln-null',
      KILN_RUNTIME: 'null',
      KILN_LOCK_DURATION_MS: '5000',
      KILN_STALLED_INTERVAL_MS: '2000',
      KILN_SHUTDOWN_GRACE_MS: '0',
    });
    expect(settings).toMatchObject({
      runtime: 'null',
      lockDurationMs: 5000,
      stalledIntervalMs: 2000,
      shutdownGraceMs: 0,
    });
    expect(readSettings({ KILN_DATA_DIR: '/tmp/kiln-null' })).toMatchObject({
      runtime: 'auto',
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      shutdownGraceMs: 30_000,
    });
    expect(() =>
      readSettings({ KILN_DATA_DIR: '/tmp/k', KILN_LOCK_DURATION_MS: '10' }),
    ).toThrow(/KILN_LOCK_DURATION_MS/);
  });
});
