/**
 * The CLI's client for a remote kiln's REST API (KILN_URL, KILN_TOKEN):
 * JSON calls and the log stream (Server-Sent Events, resumed after the
 * last seq when the connection drops).
 */
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
  /** Calls `onLine` for each line until the execution ends. */
  followLogs(
    executionId: string,
    onLine: (line: LogLine) => void,
  ): Promise<string>;
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

  async function followLogs(
    executionId: string,
    onLine: (line: LogLine) => void,
  ): Promise<string> {
    let after = -1;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const response = await fetch(
        new URL(
          `/api/executions/${encodeURIComponent(executionId)}/logs/stream`,
          base,
        ),
        {
          headers: {
            ...headers(),
            'last-event-id': String(after),
            accept: 'text/event-stream',
          },
        },
      ).catch(() => null);
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
        const ended = await readEvents(response.body, (event, data, id) => {
          if (event === 'line') {
            const line = JSON.parse(data) as LogLine;
            after = Number(id ?? line.seq);
            onLine(line);
          }
        }).catch(() => null);
        if (ended !== null) return ended;
      }
      await new Promise((done) => setTimeout(done, 1000));
    }
    throw new RemoteError(
      0,
      'the log stream kept dropping: check the connection to kiln',
    );
  }

  return {
    url: base.origin,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    followLogs,
  };
}

/** Reads an SSE body; resolves the end status, or null if cut before the end. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: string, data: string, id: string | undefined) => void,
): Promise<string | null> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let index: number;
    while ((index = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (event === 'end') {
        return (JSON.parse(data.join('\n')) as { status: string }).status;
      }
      if (data.length > 0) onEvent(event, data.join('\n'), id);
    }
  }
  return null;
}
