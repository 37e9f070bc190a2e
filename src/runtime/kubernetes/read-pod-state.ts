/**
 * What a Pod's status says about kiln's step, in the terms the runtime acts
 * on. Pure, so each Kubernetes status shape (scheduling failures, image pull
 * errors, OOM kills, deadlines, evictions) is tested without a cluster.
 *
 * Kubernetes reports these facts in different places: the PodScheduled
 * condition (unschedulable), a container's `waiting` reason (image pulls,
 * container config errors), its `terminated` state (exit code, OOMKilled)
 * and the Pod's own phase and reason (DeadlineExceeded, Evicted). The step
 * container's own end wins over the Pod's: a step that exited before the
 * Pod was failed ran to its end.
 */
import type { IContainerStatus, IPod } from 'kubernetes-models/v1';
import { POD_CONTAINERS } from './build-pod.js';

export type PodState =
  | { kind: 'gone' }
  | { kind: 'pending'; unschedulable: string | null }
  | { kind: 'image-unavailable'; message: string }
  | { kind: 'start-failed'; message: string }
  | { kind: 'files-in-running' }
  | { kind: 'step-running' }
  | {
      kind: 'step-ended';
      exitCode: number | null;
      oomKilled: boolean;
      /** The Pod's reason when it was failed (DeadlineExceeded…). */
      podReason: string | null;
    }
  /** Failed (deadline, eviction) while the step still shuts down. */
  | { kind: 'stopping'; podReason: string }
  | { kind: 'pod-failed'; reason: string; message: string };

const IMAGE_PULL_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
]);
const START_FAILURE_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreCreateHookError',
  'PreStartHookError',
]);

export function readPodState(pod: IPod | null): PodState {
  if (pod === null) return { kind: 'gone' };
  const status = pod.status ?? {};
  const statuses = status.containerStatuses ?? [];
  const step = statuses.find((item) => item.name === POD_CONTAINERS.step);
  const podReason = status.reason ?? null;

  const terminated = step?.state?.terminated;
  if (terminated) {
    return {
      kind: 'step-ended',
      exitCode: terminated.exitCode,
      oomKilled: terminated.reason === 'OOMKilled',
      podReason,
    };
  }
  if (status.phase === 'Failed' || status.phase === 'Succeeded') {
    if (step?.state?.running) {
      // The kubelet fails the Pod first, then stops its containers.
      return { kind: 'stopping', podReason: podReason ?? status.phase };
    }
    return {
      kind: 'pod-failed',
      reason: podReason ?? status.phase,
      message:
        status.message ??
        describeInitFailure(status.initContainerStatuses) ??
        '',
    };
  }
  if (status.phase === 'Unknown') {
    return {
      kind: 'pod-failed',
      reason: podReason ?? 'Unknown',
      message: status.message ?? 'the node stopped reporting the Pod',
    };
  }
  if (step?.state?.running) return { kind: 'step-running' };

  for (const item of [...(status.initContainerStatuses ?? []), ...statuses]) {
    const waiting = item.state?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      const message = `${waiting.reason}: ${waiting.message ?? 'the image could not be pulled'}`;
      // The helpers' image is the operator's: not the step's fault.
      if (item.name !== POD_CONTAINERS.step) {
        return {
          kind: 'start-failed',
          message: `helper container ${item.name}: ${message} (check KILN_KUBERNETES_HELPER_IMAGE)`,
        };
      }
      return { kind: 'image-unavailable', message };
    }
    if (waiting?.reason && START_FAILURE_REASONS.has(waiting.reason)) {
      return {
        kind: 'start-failed',
        message:
          `container ${item.name}: ${waiting.reason}: ${waiting.message ?? ''}`.trim(),
      };
    }
  }

  const filesIn = status.initContainerStatuses?.find(
    (item) => item.name === POD_CONTAINERS.filesIn,
  );
  const initFailure = describeInitFailure(status.initContainerStatuses);
  if (initFailure !== null)
    return { kind: 'start-failed', message: initFailure };
  if (filesIn?.state?.running) return { kind: 'files-in-running' };

  const scheduled = status.conditions?.find(
    (condition) => condition.type === 'PodScheduled',
  );
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {
      kind: 'pending',
      unschedulable: scheduled.message ?? 'no node can run the Pod',
    };
  }
  return { kind: 'pending', unschedulable: null };
}

function describeInitFailure(
  statuses: IContainerStatus[] | undefined,
): string | null {
  for (const item of statuses ?? []) {
    const terminated = item.state?.terminated;
    if (terminated && terminated.exitCode !== 0) {
      return `init container ${item.name} exited ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}${terminated.message ? `: ${terminated.message}` : ''}`;
    }
  }
  return null;
}
