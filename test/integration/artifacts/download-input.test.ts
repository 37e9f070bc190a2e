import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  afterAll,
  beforeAll,
  beforeEach,
  afterEach,
  describe,
  expect,
  it,
} from 'vitest';
import {
  downloadInput,
  sanitiseFileName,
} from '../../../src/artifacts/download-input.js';
import type { InputError } from '../../../src/artifacts/input-error.js';

const body = Buffer.from('x,y\n'.repeat(50_000));
let server: Server;
let base: string;
let dir: string;
const seenAuth: string[] = [];
const stalled: Array<{ destroy(): void }> = [];

/** The rejection of a download that must fail. */
async function failure(promise: Promise<unknown>): Promise<InputError> {
  try {
    await promise;
  } catch (error) {
    return error as InputError;
  }
  throw new Error('expected the download to fail');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    seenAuth.push(req.headers.authorization ?? '');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/stall.csv') {
      // Headers and some bytes, then nothing: only the timeout ends it.
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 1000));
      stalled.push(res);
    } else if (path === '/missing.csv') {
      res.writeHead(404).end('not found');
    } else if (path === '/chunked.csv') {
      // No content-length: the cap must hold while streaming.
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.write(body.subarray(0, 100_000));
      res.end(body.subarray(100_000));
    } else {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-download-'));
  seenAuth.length = 0;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('downloadInput', () => {
  it('downloads with the right size, sha256 and name', async () => {
    const result = await downloadInput({
      uri: `${base}/data/train.csv?v=1`,
      destDir: dir,
    });

    expect(result).toEqual({
      name: 'train.csv',
      path: join(dir, 'train.csv'),
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(readFileSync(result.path).equals(body)).toBe(true);
    expect(readdirSync(dir)).toEqual(['train.csv']);
  });

  it('sends URL credentials as basic auth and never shows them', async () => {
    const result = await downloadInput({
      uri: `${base.replace('//', '//user:p%40ss@')}/data.csv`,
      destDir: dir,
    });
    const error = await failure(
      downloadInput({
        uri: `${base.replace('//', '//user:p%40ss@')}/missing.csv`,
        destDir: dir,
      }),
    );

    expect(result.name).toBe('data.csv');
    expect(seenAuth[0]).toBe(
      `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    );
    expect(error.message).not.toMatch(/p%40ss|p@ss|user/);
  });

  it.each([
    ['content-length over the cap', '/big.csv'],
    ['a chunked body over the cap', '/chunked.csv'],
  ])('rejects %s with TOO_LARGE and leaves no file', async (_name, path) => {
    const error = await failure(
      downloadInput({ uri: `${base}${path}`, destDir: dir, maxBytes: 150_000 }),
    );

    expect(error).toMatchObject({ code: 'TOO_LARGE' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('turns a 404 into DOWNLOAD_FAILED', async () => {
    await expect(
      downloadInput({ uri: `${base}/missing.csv`, destDir: dir }),
    ).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: expect.stringContaining('HTTP 404'),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives up on a stalled body after timeoutMs and leaves no file', async () => {
    const error = await failure(
      downloadInput({ uri: `${base}/stall.csv`, destDir: dir, timeoutMs: 300 }),
    );

    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED' });
    expect(error.message).toContain('timed out');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('turns a refused connection into DOWNLOAD_FAILED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) =>
      closed.listen(0, '127.0.0.1', resolve),
    );
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    await expect(
      downloadInput({ uri: `http://127.0.0.1:${port}/x`, destDir: dir }),
    ).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED' });
  });

  it.each([
    'file:///etc/passwd',
    '/etc/passwd',
    '../secrets.txt',
    's3://bucket/key',
    'ftp://example.test/file',
    'datum://abc',
  ])('rejects %s with UNSUPPORTED_URI without any request', async (uri) => {
    const error = await failure(downloadInput({ uri, destDir: dir }));

    expect(error.code).toBe('UNSUPPORTED_URI');
    expect(error.message).toContain(
      'only http(s):// and datum:// inputs are supported',
    );
    expect(seenAuth).toEqual([]);
  });

  it('sanitises the file name taken from the URL or given', async () => {
    const fromUrl = await downloadInput({
      uri: `${base}/a/..%2F..%2Fevil%0A.csv`,
      destDir: dir,
    });
    const given = await downloadInput({
      uri: `${base}/x.csv`,
      destDir: dir,
      filename: '../../up.csv',
    });
    const empty = await downloadInput({ uri: `${base}/dir/`, destDir: dir });

    expect(fromUrl.name).toBe('.._.._evil_.csv');
    expect(given.name).toBe('.._.._up.csv');
    expect(empty.name).toBe('download');
    expect(readdirSync(dir).sort()).toEqual([
      '.._.._evil_.csv',
      '.._.._up.csv',
      'download',
    ]);
  });
});

describe('sanitiseFileName', () => {
  it.each([
    ['model.pkl', 'model.pkl'],
    ['..', 'download'],
    ['.', 'download'],
    ['', 'download'],
    ['a/b\\c', 'a_b_c'],
    ['nul\u0000byte', 'nul_byte'],
    ['x'.repeat(400), 'x'.repeat(255)],
    ['€'.repeat(100), '€'.repeat(85)],
  ])('%j → %j', (input, expected) => {
    expect(sanitiseFileName(input)).toBe(expected);
  });
});
