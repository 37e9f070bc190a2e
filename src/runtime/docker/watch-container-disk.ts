/**
 * Watches what a running step writes against its disk limits
 * (`StepSpec.diskLimits`): the container's writable layer (the engine's
 * `SizeRw`, so it works on any storage driver, unlike `--storage-opt
 * size` which overlay2 supports only on xfs with project quotas) and the
 * outputs folder on the host. Over a limit, `onOver` is called once with
 * the reason; the caller stops the step. A failed look is skipped: the
 * next one counts.
 */
import type Dockerode from 'dockerode';
import { measureFolder } from '../measure-folder.js';
import type { StepSpec } from '../runtime.js';
import type { StopReason } from '../watch-step-limits.js';

export interface ContainerDiskWatch {
  stop(): void;
}

/** @defaultValue every 5 s */
export const DISK_CHECK_MS = 5_000;

export function watchContainerDisk(options: {
  container: Dockerode.Container;
  limits: NonNullable<StepSpec['diskLimits']>;
  everyMs?: number;
  onOver: (reason: StopReason) => void;
}): ContainerDiskWatch {
  const { container, limits } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function look(): Promise<StopReason | null> {
    if (limits.rootfsBytes !== undefined) {
      // `size=true` is an Engine API query option the typings lack.
      const info = (await container.inspect({
        size: true,
      } as Dockerode.ContainerInspectOptions)) as { SizeRw?: number };
      if ((info.SizeRw ?? 0) > limits.rootfsBytes) {
        return {
          kind: 'disk-limit',
          what: 'root filesystem',
          limitBytes: limits.rootfsBytes,
        };
      }
    }
    if (limits.outputs !== undefined) {
      const used = await measureFolder(limits.outputs.hostPath, {
        stopAbove: limits.outputs.maxBytes,
      });
      if (used > limits.outputs.maxBytes) {
        return {
          kind: 'disk-limit',
          what: 'outputs',
          limitBytes: limits.outputs.maxBytes,
        };
      }
    }
    return null;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      look().then(
        (reason) => {
          if (stopped) return;
          if (reason) {
            stopped = true;
            options.onOver(reason);
          } else schedule();
        },
        () => schedule(),
      );
    }, options.everyMs ?? DISK_CHECK_MS);
    timer.unref();
  }
  schedule();

  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
