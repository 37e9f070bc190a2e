/**
 * A `Runtime` that starts nothing: each step prints one metric line and
 * "exits" 0 at once. For benchmarks and tests only (`KILN_RUNTIME=null`,
 * never picked automatically): it measures kiln's own dispatch cost — the
 * queue, the stores, the run advance — without container or process start.
 * Its records say runtime `local` since no container was involved.
 */
import type {
  OutputSink,
  PreparedImage,
  RunResult,
  Runtime,
  StepSpec,
} from './runtime.js';

export class NullRuntime implements Runtime {
  readonly kind = 'local' as const;
  readonly workspace = false;

  async findImage(image: string): Promise<PreparedImage> {
    return this.prepareImage(image);
  }

  /** Idempotent; never touches the image. */
  async prepareImage(image: string): Promise<PreparedImage> {
    return { image, digest: null, note: 'null runtime: nothing was run' };
  }

  async run(
    spec: StepSpec,
    sink: OutputSink,
    signal?: AbortSignal,
  ): Promise<RunResult> {
    const startedAt = new Date();
    if (signal?.aborted) {
      return {
        reason: { kind: 'stopped' },
        exitCode: null,
        startedAt,
        endedAt: new Date(),
      };
    }
    sink.stdout(
      Buffer.from(`${JSON.stringify({ attempt: spec.attempt, ok: 1 })}\n`),
    );
    return {
      reason: { kind: 'exited', exitCode: 0 },
      exitCode: 0,
      startedAt,
      endedAt: new Date(),
    };
  }

  async reapOrphans(): Promise<number> {
    return 0;
  }

  async ping(): Promise<boolean> {
    return true;
  }
}
