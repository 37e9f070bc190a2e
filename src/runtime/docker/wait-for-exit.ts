/**
 * Waits for a started step container to exit, without trusting one
 * long-lived connection to the engine: the Engine API's `wait` never
 * settles when dockerd dies under it (the socket closes and docker-modem
 * drops the request), which left a step `started` for 45 minutes. So the
 * container is also looked at every `everyMs`:
 *
 * - it exited → its exit code (whichever of wait and the look comes first);
 * - it still runs but its output stream broke (the engine restarted and the
 *   container survived) → the output is attached again;
 * - the engine does not answer → after `lostAfterMs` without an answer the
 *   wait fails with `ENGINE_UNREACHABLE` (an infrastructure failure: the
 *   step is retried), so a lost engine ends a step in bounded time;
 * - the container is gone (removed behind kiln's back) → `CONTAINER_LOST`.
 *
 * The time the engine was away is returned: the caller decides what an
 * exit after an outage means.
 */
import type Dockerode from 'dockerode';
import { RuntimeError, type StepSpec } from '../runtime.js';
import type { AttachedOutput } from './attach-output.js';
import {
  describeDockerError,
  getDockerStatusCode,
} from './describe-docker-error.js';

export interface WaitForExitOptions {
  container: Dockerode.Container;
  spec: Pick<StepSpec, 'executionId' | 'image'>;
  output: AttachedOutput;
  /** @defaultValue 5000 */
  everyMs?: number;
  /** @defaultValue 60000 */
  lostAfterMs?: number;
  onReattached?: () => void;
}

export interface ContainerExit {
  exitCode: number | null;
  /** How long the engine did not answer while the step ran (0: never). */
  engineAwayMs: number;
}

/** An inspect that takes longer is an engine that is not there. */
const INSPECT_TIMEOUT_MS = 3_000;

export function waitForExit(
  options: WaitForExitOptions,
): Promise<ContainerExit> {
  const { container, spec, output } = options;
  const everyMs = options.everyMs ?? 5_000;
  const lostAfterMs = options.lostAfterMs ?? 60_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let looking = false;
    let awaySince: number | null = null;
    let awayMs = 0;
    /** When the output stream broke, if the container may still run. */
    let goneSince: number | null = null;

    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done();
    };
    const exited = (exitCode: number | null) =>
      settle(() => resolve({ exitCode, engineAwayMs: awayMs }));

    async function look(): Promise<void> {
      const began = Date.now();
      let info: Dockerode.ContainerInspectInfo;
      try {
        info = await container.inspect({
          abortSignal: AbortSignal.timeout(INSPECT_TIMEOUT_MS),
        });
      } catch (error) {
        if (getDockerStatusCode(error) === 404) {
          settle(() =>
            reject(
              new RuntimeError(
                'CONTAINER_LOST',
                `the container of execution ${spec.executionId} disappeared from the Docker engine while the step ran (removed outside kiln?)`,
                { cause: error },
              ),
            ),
          );
          return;
        }
        const now = Date.now();
        awaySince ??= Math.min(began, goneSince ?? began);
        if (now - awaySince >= lostAfterMs) {
          awayMs += now - awaySince;
          settle(() =>
            reject(
              new RuntimeError(
                'ENGINE_UNREACHABLE',
                `the Docker engine stopped answering while execution ${spec.executionId} ran (${Math.round((now - awaySince!) / 1000)} s without an answer: ${describeDockerError(error)}); the step is retried — check that dockerd is running`,
                { cause: error },
              ),
            ),
          );
        }
        return;
      }
      if (awaySince !== null) {
        awayMs += Math.max(1, Date.now() - awaySince);
        awaySince = null;
        goneSince = null;
      }
      if (!info.State.Running && !info.State.Restarting) {
        exited(
          typeof info.State.ExitCode === 'number' ? info.State.ExitCode : null,
        );
        return;
      }
      if (output.isGone()) {
        // The engine came back and the container with it: listen again.
        // The stream broke when the engine went: that is time away too.
        if (goneSince !== null) {
          awayMs += Math.max(1, Date.now() - goneSince);
          goneSince = null;
        }
        await output.attach().then(options.onReattached, () => undefined);
      }
    }

    function schedule(delayMs: number): void {
      if (settled) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (looking) return schedule(everyMs);
        looking = true;
        void look().finally(() => {
          looking = false;
          schedule(everyMs);
        });
      }, delayMs);
    }

    container.wait().then(
      (result: { StatusCode?: number }) => exited(result.StatusCode ?? null),
      // A broken wait says nothing: the next look decides.
      () => schedule(0),
    );
    // A stream that ends early is the first sign of an engine going away.
    output.onGone(() => {
      goneSince ??= Date.now();
      schedule(Math.min(everyMs, 500));
    });
    schedule(everyMs);
  });
}
