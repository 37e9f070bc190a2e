import { describe, expect, it } from 'vitest';
import {
  buildContainerOptions,
  type ContainerNetwork,
} from '../../../../src/runtime/docker/build-container-options.js';
import type { StepSpec } from '../../../../src/runtime/runtime.js';

function specWith(overrides: Partial<StepSpec> = {}): StepSpec {
  return {
    executionId: 'exec-1',
    attempt: 2,
    image: 'python:3.12',
    commands: ['pip install -r requirements.txt', 'python train.py'],
    env: { VH_OUTPUTS_DIR: '/valohai/outputs', TOKEN: 's3cret' },
    workdir: '/valohai/repository',
    mounts: [
      {
        hostPath: '/w/repo',
        containerPath: '/valohai/repository',
        readOnly: true,
      },
      {
        hostPath: '/w/out',
        containerPath: '/valohai/outputs',
        readOnly: false,
      },
    ],
    network: false,
    resources: {},
    labels: { 'kiln.run': 'run-9', 'kiln.execution': 'spoofed' },
    ...overrides,
  };
}

function build(spec: StepSpec, network?: ContainerNetwork) {
  const result = buildContainerOptions({ spec, workerId: 'w1', network });
  if (!result.ok) throw new Error(result.problem);
  return result.options;
}

describe('buildContainerOptions', () => {
  it('runs the commands with set -e under /bin/sh, entrypoint reset', () => {
    const options = build(specWith());

    expect(options.name).toBe('kiln-exec-1-2');
    expect(options.Entrypoint).toEqual([]);
    expect(options.Cmd).toEqual([
      '/bin/sh',
      '-c',
      'set -e\npip install -r requirements.txt\npython train.py',
    ]);
    expect(options.WorkingDir).toBe('/valohai/repository');
  });

  it('keeps env values out of argv and labels', () => {
    const options = build(specWith());

    expect(options.Env).toEqual([
      'VH_OUTPUTS_DIR=/valohai/outputs',
      'TOKEN=s3cret',
      'TINI_KILL_PROCESS_GROUP=1',
    ]);
    expect(JSON.stringify(options.Cmd)).not.toContain('s3cret');
    expect(JSON.stringify(options.Labels)).not.toContain('s3cret');
  });

  it('labels the container, kiln labels winning over step labels', () => {
    const options = build(specWith());

    expect(options.Labels).toEqual({
      'kiln.run': 'run-9',
      'kiln.managed': 'true',
      'kiln.execution': 'exec-1',
      'kiln.attempt': '2',
      'kiln.worker': 'w1',
    });
  });

  it('hardens the container by default', () => {
    const host = build(specWith()).HostConfig;

    expect(host).toMatchObject({
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      PidsLimit: 1024,
      Init: true,
      AutoRemove: false,
      LogConfig: { Type: 'none' },
    });
    expect(host?.Mounts).toEqual([
      {
        Type: 'bind',
        Source: '/w/repo',
        Target: '/valohai/repository',
        ReadOnly: true,
      },
      {
        Type: 'bind',
        Source: '/w/out',
        Target: '/valohai/outputs',
        ReadOnly: false,
      },
    ]);
    expect(host?.Memory).toBeUndefined();
    expect(host?.DeviceRequests).toBeUndefined();
  });

  it('maps resources and the network opt-in', () => {
    const host = build(
      specWith({
        network: true,
        resources: {
          cpus: 1.5,
          memoryBytes: 512 * 1024 * 1024,
          devices: { 'nvidia.com/gpu': 2 },
          pidsLimit: 64,
        },
      }),
      { mode: 'kiln-steps' },
    ).HostConfig;

    expect(host).toMatchObject({
      NetworkMode: 'kiln-steps',
      NanoCpus: 1_500_000_000,
      Memory: 512 * 1024 * 1024,
      MemorySwap: 512 * 1024 * 1024,
      PidsLimit: 64,
      DeviceRequests: [{ Driver: 'nvidia', Count: 2, Capabilities: [['gpu']] }],
    });
  });

  it('puts a network step on the prepared network with its resolv.conf', () => {
    const host = build(specWith({ network: true }), {
      mode: 'kiln-steps',
      resolvConfPath: '/data/step-network/kiln-steps/resolv.conf',
    }).HostConfig;

    expect(host?.NetworkMode).toBe('kiln-steps');
    expect(host?.Mounts?.at(-1)).toEqual({
      Type: 'bind',
      Source: '/data/step-network/kiln-steps/resolv.conf',
      Target: '/etc/resolv.conf',
      ReadOnly: true,
    });
  });

  it('never gives a step the host network on its own', () => {
    const result = buildContainerOptions({
      spec: specWith({ network: true }),
      workerId: 'w1',
    });
    const offline = build(specWith({ network: false }), { mode: 'host' });

    expect(result).toEqual({
      ok: false,
      problem: 'the step asks for network: true but no network was prepared',
    });
    expect(offline.HostConfig?.NetworkMode).toBe('none');
  });

  it.each([
    [{ executionId: '../x' }, 'execution id'],
    [{ executionId: '-x' }, 'execution id'],
    [{ attempt: -1 }, 'attempt'],
    [{ workdir: 'relative' }, 'absolute'],
    [{ env: { 'A=B': 'x' } }, 'environment variable name'],
    [{ env: { A: 'x\0y' } }, 'NUL'],
    [
      { mounts: [{ hostPath: 'rel', containerPath: '/x', readOnly: true }] },
      'absolute',
    ],
    [{ resources: { memoryBytes: 1024 } }, 'at least 6 MB'],
    [{ resources: { cpus: -1 } }, 'positive'],
    [{ resources: { cpus: Number.NaN } }, 'positive'],
    [{ resources: { pidsLimit: 0 } }, 'pids limit'],
    [{ resources: { devices: { 'amd.com/gpu': 1 } } }, 'not supported'],
  ] as [Partial<StepSpec>, string][])('refuses %j', (overrides, problem) => {
    const result = buildContainerOptions({
      spec: specWith(overrides),
      workerId: 'w1',
    });

    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problem).toContain(problem);
  });
});

describe('buildContainerOptions with secrets delivered as files', () => {
  const spec = specWith({ secretNames: ['TOKEN', 'ABSENT'] });

  it('keeps secret values out of Env, mounts their folder read-only and exports them first', () => {
    const result = buildContainerOptions({
      spec,
      workerId: 'w1',
      secretsHostPath: '/srv/secrets/w1/kiln-exec-1-2',
    });
    if (!result.ok) throw new Error(result.problem);
    const options = result.options;

    expect(options.Env).toEqual([
      'VH_OUTPUTS_DIR=/valohai/outputs',
      'TINI_KILL_PROCESS_GROUP=1',
    ]);
    expect(options.HostConfig?.Mounts).toContainEqual({
      Type: 'bind',
      Source: '/srv/secrets/w1/kiln-exec-1-2',
      Target: '/run/kiln/secrets',
      ReadOnly: true,
    });
    const script = options.Cmd![2]!;
    expect(script).toContain(
      'TOKEN=$(cat /run/kiln/secrets/TOKEN && printf x) || {',
    );
    // Exports before the user's first command; a name not in env is skipped.
    expect(script.indexOf('export TOKEN')).toBeLessThan(
      script.indexOf('pip install'),
    );
    expect(script).not.toContain('ABSENT');
    expect(JSON.stringify(options)).not.toContain('s3cret');
  });

  it('ignores secretNames without a folder (env delivery)', () => {
    expect(build(spec).Env).toContain('TOKEN=s3cret');
  });

  it('refuses a secret name the shell cannot export', () => {
    const result = buildContainerOptions({
      spec: specWith({
        env: { 'A-B': 'x' },
        secretNames: ['A-B'],
      }),
      workerId: 'w1',
      secretsHostPath: '/srv/secrets/w1/kiln-exec-1-2',
    });
    expect(result).toMatchObject({
      ok: false,
      problem: expect.stringContaining('"A-B"'),
    });
  });
});
