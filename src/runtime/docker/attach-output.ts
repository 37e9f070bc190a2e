/**
 * A step container's output: the attach stream demultiplexed into stdout
 * and stderr chunks. Attached before start (so no byte is missed) and
 * again if the stream breaks while the container still runs (the engine
 * restarted: output printed while it was away is lost, the rest is not).
 */
import type Dockerode from 'dockerode';
import type { StepSpec } from '../runtime.js';
import {
  createDockerDemuxer,
  type DemuxedStream,
} from './demux-docker-stream.js';
import { callEngine } from './call-engine.js';

export interface AttachedOutput {
  /** Attaches (again): a new stream replaces a broken one. */
  attach(): Promise<void>;
  /** True while no stream is open (never attached, or it ended). */
  isGone(): boolean;
  /** Called each time the current stream ends. */
  onGone(listener: () => void): void;
  /** Settles when the current stream ends. */
  ended(): Promise<void>;
  /**
   * Stops reading the stream (the sink holds the output) until `resume`;
   * a stream attached again meanwhile starts paused.
   */
  pause(): void;
  resume(): void;
  close(): void;
}

export function attachOutput(
  container: Dockerode.Container,
  spec: Pick<StepSpec, 'executionId' | 'image'>,
  onChunk: (stream: DemuxedStream, chunk: Buffer) => void,
): AttachedOutput {
  let stream: NodeJS.ReadableStream | null = null;
  let ended: Promise<void> = Promise.resolve();
  let gone = true;
  let paused = false;
  const listeners: Array<() => void> = [];

  return {
    async attach() {
      const next = await callEngine('attach to', spec, () =>
        container.attach({ stream: true, stdout: true, stderr: true }),
      );
      const demuxer = createDockerDemuxer(onChunk);
      gone = false;
      stream = next;
      ended = new Promise<void>((resolve) => {
        let done = false;
        const end = () => {
          if (done) return;
          done = true;
          if (stream === next) gone = true;
          resolve();
          for (const listener of listeners) listener();
        };
        next.once('end', end);
        next.once('close', end);
        next.once('error', end);
      });
      next.on('data', (chunk: Buffer) => demuxer.push(chunk));
      if (paused) next.pause();
    },
    isGone: () => gone,
    onGone(listener) {
      listeners.push(listener);
    },
    ended: () => ended,
    pause() {
      paused = true;
      stream?.pause();
    },
    resume() {
      paused = false;
      stream?.resume();
    },
    close() {
      (
        stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null
      )?.destroy?.();
    },
  };
}
