/**
 * One attach or exec session with a container of a Pod, through the API
 * server (which proxies to the node's kubelet) over client-node's websocket
 * channel protocol. Adds what client-node leaves to the caller:
 *
 * - Backpressure both ways: `write` resolves when the bytes were handed to
 *   the socket (and waits while more than a window is queued), and output
 *   is paused while the consumer's `onStdout` says it is full.
 * - One promise for the end of the session, with the exec's exit status.
 * - Errors without the connection objects client-node attaches to them
 *   (they carry the request headers, bearer token included).
 *
 * Protocol v4 (the newest a 1.20 API server speaks) cannot close stdin on
 * its own: `close()` ends the whole session, which is how a container
 * started with `stdinOnce` learns that its input is over.
 */
import { PassThrough, Writable } from 'node:stream';
import { Attach, Exec } from '@kubernetes/client-node';
import type { KubeConfig, V1Status } from '@kubernetes/client-node';

export interface ContainerStreamOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  /** exec runs this command; attach joins the container's own process. */
  command?: string[];
  stdin: boolean;
  /** Return false to pause the session until `resume()` is called. */
  onStdout?: (chunk: Buffer) => boolean | void;
  onStderr?: (chunk: Buffer) => boolean | void;
}

export interface ContainerStream {
  write(chunk: Buffer): Promise<void>;
  resume(): void;
  close(): void;
  /**
   * Settles when the session is over; never rejects. `clean` when the
   * server ended it (the process exited), not a dropped connection.
   */
  readonly ended: Promise<SessionEnd>;
}

export interface SessionEnd {
  status: V1Status | null;
  error: string | null;
  clean: boolean;
}

const SEND_WINDOW_BYTES = 4 * 1024 * 1024;

export async function openContainerStream(
  options: ContainerStreamOptions,
): Promise<ContainerStream> {
  const { kubeConfig, namespace, pod, container, command } = options;
  let status: V1Status | null = null;
  let socket: Awaited<ReturnType<Attach['attach']>> | null = null;
  const forward = (
    handler: ((chunk: Buffer) => boolean | void) | undefined,
  ): Writable | null =>
    handler === undefined
      ? null
      : new Writable({
          write(chunk: Buffer, _encoding, callback) {
            if (handler(chunk) === false) socket?.pause();
            callback();
          },
        });
  const stdout = forward(options.onStdout);
  const stderr = forward(options.onStderr);
  // Never ended: client-node would close the socket at its end, and it would
  // send without backpressure. kiln writes stdin on the socket itself.
  const stdin = options.stdin ? new PassThrough() : null;
  try {
    socket =
      command === undefined
        ? await new Attach(kubeConfig).attach(
            namespace,
            pod,
            container,
            stdout,
            stderr,
            stdin,
            false,
          )
        : await new Exec(kubeConfig).exec(
            namespace,
            pod,
            container,
            command,
            stdout,
            stderr,
            stdin,
            false,
            (value) => {
              status = value;
            },
          );
  } catch (error) {
    throw new Error(
      `could not ${command === undefined ? 'attach to' : 'exec in'} container ${container} of Pod ${pod}: ${describeSocketError(error)}`,
    );
  }
  const ws = socket;
  const ended = new Promise<SessionEnd>((resolve) => {
    let error: string | null = null;
    ws.on('error', (cause: unknown) => {
      error = describeSocketError(cause);
    });
    ws.on('close', (code: number) =>
      resolve({ status, error, clean: error === null && code === 1000 }),
    );
  });

  return {
    async write(chunk) {
      if (ws.readyState !== ws.OPEN) {
        throw new Error(`the session with container ${container} is closed`);
      }
      const frame = Buffer.allocUnsafe(chunk.length + 1);
      frame[0] = 0;
      chunk.copy(frame, 1);
      const sent = new Promise<void>((resolve, reject) => {
        ws.send(frame, (error?: Error) =>
          error ? reject(new Error(describeSocketError(error))) : resolve(),
        );
      });
      if (ws.bufferedAmount > SEND_WINDOW_BYTES) await sent;
      else sent.catch(() => undefined);
    },
    resume() {
      ws.resume();
    },
    close() {
      ws.close();
    },
    ended,
  };
}

/** A message for a websocket failure; never the request it came from. */
export function describeSocketError(error: unknown): string {
  if (error instanceof Error) return error.message;
  const inner = (error as { error?: unknown; message?: unknown } | null)?.error;
  if (inner instanceof Error) return inner.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : 'websocket error';
}
