import type { IPod } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { readPodState } from '../../../../src/runtime/kubernetes/read-pod-state.js';

function pod(status: NonNullable<IPod['status']>): IPod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status };
}

const waiting = (name: string, reason: string, message?: string) => ({
  name,
  image: 'x',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason, message } },
});

describe('readPodState', () => {
  it('reads a Pod that is gone', () => {
    expect(readPodState(null)).toEqual({ kind: 'gone' });
  });

  it('reads an unschedulable Pod with the scheduler message', () => {
    const state = readPodState(
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
          },
        ],
      }),
    );

    expect(state).toEqual({
      kind: 'pending',
      unschedulable: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
    });
  });

  it.each(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])(
    'reads %s on the step as an unavailable image',
    (reason) => {
      const state = readPodState(
        pod({
          phase: 'Pending',
          containerStatuses: [waiting('step', reason, 'no such host')],
        }),
      );

      expect(state).toEqual({
        kind: 'image-unavailable',
        message: `${reason}: no such host`,
      });
    },
  );

  it("blames the operator's helper image, not the step's", () => {
    const state = readPodState(
      pod({
        phase: 'Pending',
        initContainerStatuses: [waiting('kiln-files-in', 'ErrImagePull')],
      }),
    );

    expect(state.kind).toBe('start-failed');
    expect(state.kind === 'start-failed' && state.message).toContain(
      'KILN_KUBERNETES_HELPER_IMAGE',
    );
  });

  it('reads a container config error as a failed start', () => {
    const state = readPodState(
      pod({
        phase: 'Pending',
        containerStatuses: [
          waiting(
            'step',
            'CreateContainerConfigError',
            'secret "x-env" not found',
          ),
        ],
      }),
    );

    expect(state).toEqual({
      kind: 'start-failed',
      message:
        'container step: CreateContainerConfigError: secret "x-env" not found',
    });
  });

  it('reads an OOM kill with its exit code', () => {
    const state = readPodState(
      pod({
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'step',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
          },
        ],
      }),
    );

    expect(state).toEqual({
      kind: 'step-ended',
      exitCode: 137,
      oomKilled: true,
      podReason: null,
    });
  });

  it('reads a deadline while the step shuts down, then its end', () => {
    const running = {
      name: 'step',
      image: 'x',
      imageID: '',
      ready: true,
      restartCount: 0,
      state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
    };
    const stopping = readPodState(
      pod({
        phase: 'Failed',
        reason: 'DeadlineExceeded',
        containerStatuses: [running],
      }),
    );
    const ended = readPodState(
      pod({
        phase: 'Failed',
        reason: 'DeadlineExceeded',
        containerStatuses: [
          {
            ...running,
            state: { terminated: { exitCode: 143, reason: 'Error' } },
          },
        ],
      }),
    );

    expect(stopping).toEqual({
      kind: 'stopping',
      podReason: 'DeadlineExceeded',
    });
    expect(ended).toEqual({
      kind: 'step-ended',
      exitCode: 143,
      oomKilled: false,
      podReason: 'DeadlineExceeded',
    });
  });

  it('reads an eviction before the step ran as a failed Pod', () => {
    const state = readPodState(
      pod({
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory.',
        containerStatuses: [waiting('step', 'ContainerCreating')],
      }),
    );

    expect(state).toEqual({
      kind: 'pod-failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
    });
  });

  it('reads a failed init container (a cut input stream)', () => {
    const state = readPodState(
      pod({
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'kiln-files-in',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      }),
    );

    expect(state).toEqual({
      kind: 'start-failed',
      message: 'init container kiln-files-in exited 1 (Error)',
    });
  });

  it('reads the running init container and the running step', () => {
    const init = readPodState(
      pod({
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'kiln-files-in',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { running: {} },
          },
        ],
      }),
    );
    const step = readPodState(
      pod({
        phase: 'Running',
        containerStatuses: [
          {
            name: 'step',
            image: 'x',
            imageID: '',
            ready: true,
            restartCount: 0,
            state: { running: {} },
          },
        ],
      }),
    );

    expect(init).toEqual({ kind: 'files-in-running' });
    expect(step).toEqual({ kind: 'step-running' });
  });
});
