/**
 * A git server that goes quiet costs one stall limit and a clear error,
 * not minutes (reliability plan §8.3 F30, issue 11 item 7). Measured on
 * this machine: `git ls-remote` against a server that accepts TCP and never
 * answers the TLS handshake was still running when killed after 40 s, even
 * with a 3 s low-speed limit — hence the check before git is started.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitError } from '../../../src/git/git-error.js';
import { GitMaterialiser } from '../../../src/git/git-materialiser.js';
import { makeTempDir, removeTempDir } from './git-fixture.js';

async function failureOf(promise: Promise<unknown>): Promise<GitError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GitError);
  return error as GitError;
}

describe('a git server that says nothing', () => {
  let root: string;
  let silent: Server;
  const sockets = new Set<Socket>();
  let port = 0;
  let materialiser: GitMaterialiser;

  beforeAll(async () => {
    root = makeTempDir('git-silent');
    // Accepts connections (and reads requests) but never writes a byte.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) =>
      silent.listen(0, '127.0.0.1', resolve),
    );
    const address = silent.address();
    port = typeof address === 'object' && address ? address.port : 0;
    // Three rounds allowed: a silent server must not be asked three times.
    materialiser = new GitMaterialiser({
      cacheDir: join(root, 'cache'),
      fetchAttempts: 3,
      fetchRetryDelayMs: 10,
      fetchStallMs: 2_000,
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    removeTempDir(root);
  });

  it('over https: no TLS handshake within the limit, one round only', async () => {
    const started = Date.now();

    const error = await failureOf(
      materialiser.ensureCommit(
        { id: 'acme/black-hole', url: `https://127.0.0.1:${port}/a.git` },
        'a'.repeat(40),
      ),
    );

    expect(error.code).toBe('SERVER_NOT_ANSWERING');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      `the git server of acme/black-hole does not answer: 127.0.0.1:${port} did not complete a TLS handshake within 2 s; kiln tries again later (the limit is KILN_GIT_STALL_MS)`,
    );
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('over http: the request is taken and no byte comes back', async () => {
    const started = Date.now();

    const error = await failureOf(
      materialiser.ensureCommit(
        { id: 'acme/quiet', url: `http://127.0.0.1:${port}/a.git` },
        'b'.repeat(40),
      ),
    );

    expect(error.code).toBe('SERVER_NOT_ANSWERING');
    expect(error.message).toMatch(
      /^the git server of acme\/quiet does not answer: no data came for 2 s;/,
    );
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('asking for a ref (ls-remote) is bounded the same way', async () => {
    const error = await failureOf(
      materialiser.resolveRef(
        { id: 'acme/black-hole', url: `https://127.0.0.1:${port}/a.git` },
        'main',
      ),
    );

    expect(error.code).toBe('SERVER_NOT_ANSWERING');
  });
});
