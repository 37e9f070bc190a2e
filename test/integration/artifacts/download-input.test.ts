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
  withoutCredentials,
} from '../../../src/artifacts/download-input.js';
import { InputCache } from '../../../src/artifacts/input-cache.js';
import type { InputError } from '../../../src/artifacts/input-error.js';
import { InputFetchPolicy } from '../../../src/artifacts/input-fetch-policy.js';

/** The test servers listen on loopback, which kiln refuses by default. */
const policy = new InputFetchPolicy({ privateNetworks: ['127.0.0.1/32'] });

const body = Buffer.from('x,y\n'.repeat(50_000));
let server: Server;
let base: string;
let dir: string;
const seenAuth: string[] = [];
const stalled: Array<{ destroy(): void }> = [];
let notModified = 0;
let other: Server;
let otherBase: string;
const otherAuth: string[] = [];

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
    } else if (path === '/etag.csv') {
      if (req.headers['if-none-match'] === '"v1"') {
        notModified += 1;
        res.writeHead(304, { etag: '"v1"' }).end();
      } else {
        res.writeHead(200, { etag: '"v1"' }).end(body);
      }
    } else if (path === '/to-other.csv') {
      res.writeHead(302, { location: `${otherBase}/data.csv` }).end();
    } else if (path === '/to-refused.csv') {
      // 127.0.0.2 is loopback too, and not in the allowed network.
      const port = (server.address() as AddressInfo).port;
      res.writeHead(302, { location: `http://127.0.0.2:${port}/x.csv` }).end();
    } else if (path === '/to-metadata.csv') {
      res
        .writeHead(301, {
          location: 'http://169.254.169.254/latest/meta-data/',
        })
        .end();
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
  other = createServer((req, res) => {
    otherAuth.push(req.headers.authorization ?? '');
    res.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => other.close(resolve));
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-download-'));
  seenAuth.length = 0;
  otherAuth.length = 0;
  notModified = 0;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('downloadInput', () => {
  it('downloads with the right size, sha256 and name', async () => {
    const result = await downloadInput({
      uri: `${base}/data/train.csv?v=1`,
      destDir: dir,
      policy,
    });

    expect(result).toEqual({
      name: 'train.csv',
      path: join(dir, 'train.csv'),
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      uri: `${base}/data/train.csv?v=1`,
    });
    expect(readFileSync(result.path).equals(body)).toBe(true);
    expect(readdirSync(dir)).toEqual(['train.csv']);
  });

  it('sends URL credentials as basic auth and never shows them', async () => {
    const result = await downloadInput({
      uri: `${base.replace('//', '//user:p%40ss@')}/data.csv`,
      destDir: dir,
      policy,
    });
    const error = await failure(
      downloadInput({
        uri: `${base.replace('//', '//user:p%40ss@')}/missing.csv`,
        destDir: dir,
        policy,
      }),
    );

    expect(result.name).toBe('data.csv');
    expect(result.uri).toBe(`${base}/data.csv`);
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
      downloadInput({
        uri: `${base}${path}`,
        destDir: dir,
        maxBytes: 150_000,
        policy,
      }),
    );

    expect(error).toMatchObject({ code: 'TOO_LARGE' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('turns a 404 into DOWNLOAD_FAILED', async () => {
    await expect(
      downloadInput({ uri: `${base}/missing.csv`, destDir: dir, policy }),
    ).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: expect.stringContaining('HTTP 404'),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives up on a stalled body after timeoutMs and leaves no file', async () => {
    const error = await failure(
      downloadInput({
        uri: `${base}/stall.csv`,
        destDir: dir,
        timeoutMs: 300,
        policy,
      }),
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
      downloadInput({
        uri: `http://127.0.0.1:${port}/x`,
        destDir: dir,
        policy,
      }),
    ).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED' });
  });

  it.each([
    'file:///etc/passwd',
    '/etc/passwd',
    '../secrets.txt',
    'ftp://example.test/file',
    'gopher://127.0.0.1:6379/_INFO',
  ])('rejects %s with UNSUPPORTED_URI without any request', async (uri) => {
    const error = await failure(downloadInput({ uri, destDir: dir, policy }));

    expect(error.code).toBe('UNSUPPORTED_URI');
    expect(error.message).toContain(
      'only https://, http://, s3:// and datum:// inputs are supported',
    );
    expect(seenAuth).toEqual([]);
  });

  it('sanitises the file name taken from the URL or given', async () => {
    const fromUrl = await downloadInput({
      uri: `${base}/a/..%2F..%2Fevil%0A.csv`,
      destDir: dir,
      policy,
    });
    const given = await downloadInput({
      uri: `${base}/x.csv`,
      destDir: dir,
      filename: '../../up.csv',
      policy,
    });
    const empty = await downloadInput({
      uri: `${base}/dir/`,
      destDir: dir,
      policy,
    });

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

describe('the fetch policy', () => {
  it('refuses a loopback server by default, before any request, and fetches it when the network is allowed', async () => {
    const refused = await failure(
      downloadInput({ uri: `${base}/data.csv`, destDir: dir }),
    );
    const allowed = await downloadInput({
      uri: `${base}/data.csv`,
      destDir: dir,
      policy,
    });

    expect(refused.code).toBe('FORBIDDEN_ADDRESS');
    expect(refused.message).toContain('127.0.0.1');
    expect(refused.message).toContain('KILN_INPUT_PRIVATE_NETWORKS');
    expect(allowed.size).toBe(body.length);
    expect(seenAuth).toHaveLength(1);
  });

  it('checks the addresses a name resolves to (localhost)', async () => {
    const port = (server.address() as AddressInfo).port;
    const error = await failure(
      downloadInput({ uri: `http://localhost:${port}/data.csv`, destDir: dir }),
    );

    expect(error.code).toBe('FORBIDDEN_ADDRESS');
    expect(error.message).toMatch(/resolves to (127\.0\.0\.1|::1)/);
    expect(seenAuth).toEqual([]);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://10.0.0.8/data.csv', '10.0.0.8'],
    ['http://[::1]:9/data.csv', '::1'],
    ['http://[::ffff:127.0.0.1]:9/data.csv', '::ffff:7f00:1'],
    ['http://[fe80::1]/data.csv', 'fe80::1'],
    ['http://0.0.0.0:9/data.csv', '0.0.0.0'],
  ])('refuses %s by default', async (uri, address) => {
    const error = await failure(downloadInput({ uri, destDir: dir }));

    expect(error.code).toBe('FORBIDDEN_ADDRESS');
    expect(error.message).toContain(address);
  });

  it('checks every redirect: to a refused address, to the metadata service', async () => {
    const toLoopback = await failure(
      downloadInput({ uri: `${base}/to-refused.csv`, destDir: dir, policy }),
    );
    const toMetadata = await failure(
      downloadInput({ uri: `${base}/to-metadata.csv`, destDir: dir, policy }),
    );

    expect(toLoopback.code).toBe('FORBIDDEN_ADDRESS');
    expect(toLoopback.message).toContain('127.0.0.2');
    expect(toMetadata.code).toBe('FORBIDDEN_ADDRESS');
    expect(toMetadata.message).toContain('169.254.169.254');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('follows an allowed redirect without carrying credentials to another origin', async () => {
    const result = await downloadInput({
      uri: `${base.replace('//', '//user:secret@')}/to-other.csv`,
      destDir: dir,
      policy,
    });

    expect(result.size).toBe(body.length);
    expect(result.uri).toBe(`${base}/to-other.csv`);
    expect(seenAuth[0]).toMatch(/^Basic /);
    expect(otherAuth).toEqual(['']);
  });

  it('keeps to the host allow-list when one is set', async () => {
    const error = await failure(
      downloadInput({
        uri: `${base}/data.csv`,
        destDir: dir,
        policy: new InputFetchPolicy({
          hosts: ['*.example.com'],
          privateNetworks: ['127.0.0.1/32'],
        }),
      }),
    );

    expect(error.code).toBe('FORBIDDEN_ADDRESS');
    expect(error.message).toContain('KILN_INPUT_HOSTS');
    expect(seenAuth).toEqual([]);
  });

  it('refuses a network that is not in CIDR form', () => {
    expect(
      () => new InputFetchPolicy({ privateNetworks: ['10.0.0.0/33'] }),
    ).toThrow(/CIDR/);
  });
});

describe('the input cache', () => {
  it('revalidates with the ETag and serves the cached bytes on 304', async () => {
    const cache = new InputCache(join(dir, 'cache'));
    const first = await downloadInput({
      uri: `${base}/etag.csv`,
      destDir: join(dir, 'one'),
      policy,
      cache,
    });
    const second = await downloadInput({
      uri: `${base}/etag.csv`,
      destDir: join(dir, 'two'),
      policy,
      cache,
    });

    expect(notModified).toBe(1);
    expect(second).toMatchObject({
      sha256: first.sha256,
      size: body.length,
      etag: '"v1"',
    });
    expect(readFileSync(join(dir, 'two', 'etag.csv')).equals(body)).toBe(true);
  });

  it('keeps credentials out of the recorded URI', () => {
    expect(withoutCredentials('https://me:pw@data.example.com/a.csv?x=1')).toBe(
      'https://data.example.com/a.csv?x=1',
    );
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
