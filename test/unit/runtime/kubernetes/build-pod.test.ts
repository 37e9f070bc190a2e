import { describe, expect, it } from 'vitest';
import { buildPod } from '../../../../src/runtime/kubernetes/build-pod.js';
import type { BuildPodOptions } from '../../../../src/runtime/kubernetes/build-pod.js';
import { toPodName } from '../../../../src/runtime/kubernetes/to-pod-name.js';
import type { StepSpec } from '../../../../src/runtime/runtime.js';

function specWith(overrides: Partial<StepSpec> = {}): StepSpec {
  return {
    executionId: 'rlx8a2b-0-1',
    attempt: 1,
    image: 'python:3.12',
    commands: ['python train.py'],
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

function build(spec: StepSpec, options: Partial<BuildPodOptions> = {}) {
  const result = buildPod({
    spec,
    namespace: 'steps',
    workerId: 'worker-0',
    files: 'copy',
    helperImage: 'busybox:1.36',
    ...options,
  });
  if (!result.ok) throw new Error(result.problem);
  return result;
}

describe('buildPod', () => {
  it('names and labels the Pod after the attempt; kiln labels win', () => {
    const { name, pod } = build(specWith());

    expect(name).toBe('kiln-rlx8a2b-0-1-1');
    expect(pod.metadata?.labels).toEqual({
      'kiln.run': 'run-9',
      'kiln.execution': 'rlx8a2b-0-1',
      'kiln.managed': 'true',
      'kiln.attempt': '1',
      'kiln.worker': 'worker-0',
      'kiln.network': 'none',
    });
    expect(pod.metadata?.annotations).toEqual({
      'kiln.execution': 'rlx8a2b-0-1',
    });
  });

  it.each([
    ['Run_ID.with.Dots-0-1', 2],
    [`r${'x'.repeat(100)}`, 1],
  ])(
    'maps execution id %s to a valid, distinct Pod name',
    (executionId, attempt) => {
      const name = toPodName({ executionId, attempt });

      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).not.toBe(
        toPodName({ executionId: executionId.toLowerCase() + 'z', attempt }),
      );
    },
  );

  it('appends the suffix it is given to the name', () => {
    const { name, secret } = build(specWith(), { nameSuffix: 'a1b2c3' });

    expect(name).toBe('kiln-rlx8a2b-0-1-1-a1b2c3');
    expect(secret?.metadata?.name).toBe('kiln-rlx8a2b-0-1-1-a1b2c3-env');
  });

  it('keeps the environment in a Secret the container reads key by key', () => {
    const { pod, secret, name } = build(specWith());
    const step = pod.spec!.containers[0]!;

    expect(secret?.metadata?.name).toBe(`${name}-env`);
    expect(secret?.stringData).toEqual({
      e0: '/valohai/outputs',
      e1: 's3cret',
    });
    expect(step.env).toEqual([
      {
        name: 'VH_OUTPUTS_DIR',
        valueFrom: { secretKeyRef: { name: `${name}-env`, key: 'e0' } },
      },
      {
        name: 'TOKEN',
        valueFrom: { secretKeyRef: { name: `${name}-env`, key: 'e1' } },
      },
    ]);
    expect(JSON.stringify(pod)).not.toContain('s3cret');
  });

  it('hardens the Pod like a Docker step', () => {
    const { pod } = build(specWith());
    const step = pod.spec!.containers[0]!;

    expect(pod.spec).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(pod.spec?.hostNetwork).toBeUndefined();
    expect(step.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(step.command?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(step.command?.[4]).toBe('set -e\npython train.py');
    expect(step).toMatchObject({ stdin: true, stdinOnce: true, tty: false });
  });

  it('copies folders through an emptyDir: init container in, sidecar out', () => {
    const { pod } = build(specWith());

    expect(pod.spec?.volumes).toEqual([{ name: 'kiln-files', emptyDir: {} }]);
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual([
      'kiln-files-in',
    ]);
    expect(pod.spec?.containers.map((c) => c.name)).toEqual([
      'step',
      'kiln-files-out',
    ]);
    expect(pod.spec?.containers[0]?.volumeMounts).toEqual([
      {
        name: 'kiln-files',
        mountPath: '/valohai/repository',
        subPath: 'm0',
        readOnly: true,
      },
      {
        name: 'kiln-files',
        mountPath: '/valohai/outputs',
        subPath: 'm1',
        readOnly: false,
      },
    ]);
  });

  it('has no sidecar when nothing comes back, no init when nothing goes in', () => {
    const readOnly = build(specWith({ mounts: [specWith().mounts[0]!] })).pod;
    const bare = build(specWith({ mounts: [] })).pod;

    expect(readOnly.spec?.containers.map((c) => c.name)).toEqual(['step']);
    expect(bare.spec?.initContainers).toEqual([]);
  });

  it('mounts the worker folders from the node in host-path mode, on its node', () => {
    const { pod } = build(specWith(), {
      files: 'host-path',
      nodeName: 'node-7',
    });

    expect(pod.spec?.volumes).toEqual([
      { name: 'm0', hostPath: { path: '/w/repo', type: 'Directory' } },
      { name: 'm1', hostPath: { path: '/w/out', type: 'Directory' } },
    ]);
    expect(pod.spec?.initContainers).toEqual([]);
    expect(pod.spec?.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchFields: [
                { key: 'metadata.name', operator: 'In', values: ['node-7'] },
              ],
            },
          ],
        },
      },
    });
  });

  it('turns resources into requests and limits, devices into extended resources', () => {
    const { pod } = build(
      specWith({
        resources: {
          cpus: 1.5,
          memoryBytes: 512 * 1024 * 1024,
          devices: { 'nvidia.com/gpu': 2 },
        },
      }),
    );

    expect(pod.spec?.containers[0]?.resources).toEqual({
      limits: {
        cpu: '1500m',
        memory: String(512 * 1024 * 1024),
        'nvidia.com/gpu': '2',
      },
      requests: { cpu: '1500m', memory: String(512 * 1024 * 1024) },
    });
  });

  it('places the Pod with the environment, adding the node to each term', () => {
    const { pod } = build(specWith(), {
      placement: {
        nodeSelector: { pool: 'gpu' },
        tolerations: [
          { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
        ],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'zone', operator: 'In', values: ['a'] },
                  ],
                },
                {
                  matchExpressions: [
                    { key: 'zone', operator: 'In', values: ['b'] },
                  ],
                },
              ],
            },
          },
        },
      },
      nodeName: 'n1',
    });

    expect(pod.spec?.nodeSelector).toEqual({ pool: 'gpu' });
    expect(pod.spec?.tolerations).toHaveLength(1);
    const terms = (
      pod.spec?.affinity as {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: { matchFields: unknown[] }[];
          };
        };
      }
    ).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
      .nodeSelectorTerms;
    expect(terms).toHaveLength(2);
    for (const term of terms) {
      expect(term.matchFields).toEqual([
        { key: 'metadata.name', operator: 'In', values: ['n1'] },
      ]);
    }
  });

  it('sets the deadline to the time limit plus the start allowance, and the grace', () => {
    const { pod } = build(
      specWith({ timeLimitMs: 90_500, stopGraceMs: 2_500 }),
    );

    expect(pod.spec?.activeDeadlineSeconds).toBe(91 + 3600);
    expect(pod.spec?.terminationGracePeriodSeconds).toBe(3);
  });

  it('labels a step that asks for the network', () => {
    const { pod } = build(specWith({ network: true }));

    expect(pod.metadata?.labels?.['kiln.network']).toBe('allowed');
  });

  it.each([
    [{ env: { '1BAD': 'x' } }, 'environment variable name "1BAD"'],
    [{ workdir: 'relative' }, 'must be an absolute path'],
    [
      { resources: { devices: { gpu: 1 } } },
      'not a Kubernetes extended resource name',
    ],
    [{ resources: { memoryBytes: 1024 } }, 'at least 6 MB'],
    [{ executionId: '../x' }, 'execution id'],
  ] as const)('refuses %o', (overrides, problem) => {
    const result = buildPod({
      spec: specWith(overrides as Partial<StepSpec>),
      namespace: 'steps',
      workerId: 'w',
      files: 'copy',
      helperImage: 'busybox:1.36',
    });

    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain(problem);
  });
});
