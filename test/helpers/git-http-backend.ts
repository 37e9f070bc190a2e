/**
 * Serves one request of git's smart HTTP protocol with the real
 * `git http-backend` as a CGI program, the way GitHub's git endpoints
 * answer `git fetch` and `git ls-remote`. Upload-pack only: pushes are
 * refused before the CGI runs.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RunGitHttpBackendOptions {
  incoming: IncomingMessage;
  response: ServerResponse;
  /** The request body (raw bytes; may be gzip, as Content-Encoding says). */
  body: Buffer;
  /** Folder holding the bare repository. */
  projectRoot: string;
  /** `/<repo>.git/info/refs` or `/<repo>.git/git-upload-pack`. */
  pathInfo: string;
  query: string;
}

/** Resolves with the HTTP status sent. */
export async function runGitHttpBackend(
  options: RunGitHttpBackendOptions,
): Promise<number> {
  const { incoming, response, body } = options;
  const header = (name: string) => {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(',') : (value ?? '');
  };
  const child = spawn('git', ['http-backend'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: incoming.method ?? 'GET',
      PATH_INFO: options.pathInfo,
      QUERY_STRING: options.query,
      CONTENT_TYPE: header('content-type'),
      CONTENT_LENGTH: String(body.length),
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      // Protocol v2 is negotiated through this header.
      GIT_PROTOCOL: header('git-protocol'),
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_USER: 'x-access-token',
    },
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(body);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  const output = Buffer.concat(out);
  const crlf = output.indexOf('\r\n\r\n');
  const lf = output.indexOf('\n\n');
  const split = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
  if (split < 0) {
    response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(
      `git http-backend exited ${code}: ${Buffer.concat(err).toString()}`,
    );
    return 500;
  }
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of output
    .subarray(0, split)
    .toString('latin1')
    .split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
    else headers[name] = value;
  }
  response.writeHead(status, headers);
  response.end(output.subarray(split + (split === crlf ? 4 : 2)));
  return status;
}
