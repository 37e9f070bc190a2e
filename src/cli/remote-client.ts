/**
 * The CLI's client for a remote kiln's REST API (KILN_URL, KILN_TOKEN):
 * JSON calls and the log stream (Server-Sent Events, resumed after the
 * last seq when the connection drops).
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { LogLine } from '../model/log-line.js';
import { KilnError } from '../errors.js';

export class RemoteError extends KilnError {
  readonly code = 'REMOTE_FAILED';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface RemoteClient {
  url: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
  /** Saves a download (an output's bytes) to `target`, following redirects. */
  download(path: string, target: string): Promise<void>;
  /** Calls `onLine` for each line until the execution ends. */
  followLogs(
    executionId: string,
    onLine: (line: LogLine) => void,
  ): Promise<string>;
  /** An SSE endpoint, resumed after drops, until `end` (its data) or 'stop'. */
  followEvents(
    path: string,
    after: string | undefined,
    onEvent: (event: string, data: string) => void | 'stop',
  ): Promise<unknown>;
}

export function remoteFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RemoteClient | null {
  const url = env.KILN_URL;
  if (!url) return null;
  return createRemoteClient({ url, token: env.KILN_TOKEN });
}

export function createRemoteClient(options: {
  url: string;
  token?: string;
}): RemoteClient {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new RemoteError(
      0,
      `KILN_URL=${JSON.stringify(options.url)} is not a URL: use e.g. https://kiln.example.com`,
    );
  }
  const headers = (): Record<string, string> =>
    options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, base), {
        method,
        headers: {
          ...headers(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new RemoteError(
        0,
        `kiln at ${base.origin} does not answer (${(error as Error).message}): check KILN_URL`,
      );
    }
    const text = await response.text();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text.slice(0, 200) };
    }
    if (!response.ok) {
      const message = (data as { error?: string }).error ?? response.statusText;
      const hint =
        response.status === 401
          ? ' (set KILN_TOKEN to a token from kiln token create)'
          : '';
      throw new RemoteError(response.status, `${message}${hint}`);
    }
    return data as T;
  }

  /**
   * Follows an SSE endpoint until it sends `end` (resolving its data), or
   * `onEvent` returns 'stop'; after a dropped connection it resumes after
   * the last id seen (Last-Event-ID), so nothing is missed or repeated.
   */
  async function followEvents(
    path: string,
    after: string | undefined,
    onEvent: (event: string, data: string) => void | 'stop',
  ): Promise<unknown> {
    let last = after;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const response = await fetch(new URL(path, base), {
        headers: {
          ...headers(),
          ...(last === undefined ? {} : { 'last-event-id': last }),
          accept: 'text/event-stream',
        },
      }).catch(() => null);
      if (response && !response.ok) {
        const data = (await response.json().catch(() => ({}))) as {
          error?: string;
        };
        throw new RemoteError(
          response.status,
          data.error ?? response.statusText,
        );
      }
      if (response?.body) {
        const outcome = await readEventStream(response.body, (message) => {
          if (message.id !== undefined) last = message.id;
          return onEvent(message.event ?? 'message', message.data);
        }).catch(() => null);
        if (outcome !== null) return outcome.end;
      }
      await new Promise((done) => setTimeout(done, 1000));
    }
    throw new RemoteError(
      0,
      'the event stream kept dropping: check the connection to kiln',
    );
  }

  async function followLogs(
    executionId: string,
    onLine: (line: LogLine) => void,
  ): Promise<string> {
    const end = await followEvents(
      `/api/executions/${encodeURIComponent(executionId)}/logs/stream`,
      '-1',
      (event, data) => {
        if (event === 'line') onLine(JSON.parse(data) as LogLine);
      },
    );
    return (end as { status?: string } | undefined)?.status ?? 'ended';
  }

  async function download(path: string, target: string): Promise<void> {
    const response = await fetch(new URL(path, base), {
      headers: headers(),
      redirect: 'follow',
    }).catch((error: unknown) => {
      throw new RemoteError(
        0,
        `kiln at ${base.origin} does not answer (${(error as Error).message}): check KILN_URL`,
      );
    });
    if (!response.ok || !response.body) {
      const data = (await response.json().catch(() => ({}))) as {
        error?: string;
      };
      throw new RemoteError(response.status, data.error ?? response.statusText);
    }
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream),
      createWriteStream(target, { mode: 0o644 }),
    );
  }

  return {
    url: base.origin,
    download,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    delete: (path) => call('DELETE', path),
    followLogs,
    followEvents,
  };
}

/**
 * Reads an SSE body with eventsource-parser: resolves `{end}` with the
 * `end` event's data, or when `onMessage` says 'stop'; rejects when the
 * body ends first (the caller reconnects).
 */
async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onMessage: (message: EventSourceMessage) => void | 'stop',
): Promise<{ end: unknown }> {
  const decoder = new TextDecoder();
  let outcome: { end: unknown } | undefined;
  const parser = createParser({
    onEvent(message) {
      if (outcome) return;
      if (message.event === 'end') {
        outcome = { end: JSON.parse(message.data || '{}') as unknown };
        return;
      }
      if (onMessage(message) === 'stop') outcome = { end: undefined };
    },
  });
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (outcome) return outcome;
  }
  throw new Error('the event stream ended early');
}
