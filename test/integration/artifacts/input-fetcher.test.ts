/**
 * Inputs from the data lake against a real radosgw: `s3://` objects with
 * their ETag and version recorded, globs, the worker cache, whose
 * credentials each kind of run gets (fork runs: none), and through
 * `prepareInputs` the records a step gets (no credentials in them), plus
 * the fetch policy for https inputs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi,
} from 'vitest';
import { createS3Client } from '../../../src/artifacts/create-s3-client.js';
import {
  DataStoreAccess,
  type DataCredentialsMode,
} from '../../../src/artifacts/data-store-access.js';
import { FsArtifactStore } from '../../../src/artifacts/fs-artifact-store.js';
import type { InputError } from '../../../src/artifacts/input-error.js';
import { InputFetchPolicy } from '../../../src/artifacts/input-fetch-policy.js';
import { InputFetcher } from '../../../src/artifacts/input-fetcher.js';
import type { Input } from '../../../src/config/config-model.js';
import { prepareInputs } from '../../../src/worker/prepare-inputs.js';
import type { WorkerDeps } from '../../../src/worker/worker-deps.js';
import { haveCeph, startTestS3, type TestS3 } from '../../helpers/ceph-s3.js';

const sha = (bytes: Buffer | string) =>
  createHash('sha256').update(bytes).digest('hex');

async function failure(promise: Promise<unknown>): Promise<InputError> {
  try {
    await promise;
  } catch (error) {
    return error as InputError;
  }
  throw new Error('expected a failure');
}

function input(name: string, overrides: Partial<Input> = {}): Input {
  return {
    name,
    default: [],
    optional: false,
    keepDirectories: 'none',
    download: 'always',
    ...overrides,
  };
}

describe.skipIf(!haveCeph())('inputs from the data lake (radosgw)', () => {
  let s3: TestS3;
  let dir: string;
  /** The data lake's owner: a user of its own, not the worker's. */
  let lake: { accessKeyId: string; secretAccessKey: string };
  let lakeClient: S3Client;
  let bucket: string;
  let requests: string[];
  const repositorySecrets = () =>
    Promise.resolve({
      AWS_ACCESS_KEY_ID: lake.accessKeyId,
      AWS_SECRET_ACCESS_KEY: lake.secretAccessKey,
    });

  function fetcher(mode: DataCredentialsMode = 'repository'): InputFetcher {
    return new InputFetcher({
      cacheDir: join(dir, 'cache'),
      access: new DataStoreAccess({
        mode,
        createClient: async (options) => {
          const made = await createS3Client({
            endpoint: s3.endpoint,
            region: s3.region,
            ...options,
          });
          made.client.middlewareStack.add(
            (next, context) => async (args) => {
              requests.push(context.commandName ?? '?');
              return next(args);
            },
            { step: 'initialize', name: 'recordRequests' },
          );
          return made;
        },
      }),
    });
  }

  async function put(key: string, body: string, acl?: 'public-read') {
    const result = await lakeClient.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ...(acl ? { ACL: acl } : {}),
      }),
    );
    return result;
  }

  beforeAll(async () => {
    s3 = await startTestS3();
    lake = await s3.createUser();
    lakeClient = s3.client(undefined, lake);
    bucket = await s3.createBucket({ versioned: true, as: lakeClient });
  }, 300_000);

  afterAll(() => {
    lakeClient?.destroy();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-s3-inputs-'));
    requests = [];
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads s3://bucket/key with its ETag and version, then serves it from the cache', async () => {
    const body = `x,y\n${randomBytes(8).toString('hex')}\n`;
    const written = await put('iris/train.csv', body);
    const inputs = fetcher();

    const [first] = await inputs.fetch({
      uri: `s3://${bucket}/iris/train.csv`,
      destDir: join(dir, 'one'),
      trusted: true,
      secrets: repositorySecrets,
    });
    const afterFirst = [...requests];
    const [second] = await inputs.fetch({
      uri: `s3://${bucket}/iris/train.csv`,
      destDir: join(dir, 'two'),
      trusted: true,
      secrets: repositorySecrets,
    });

    expect(first).toEqual({
      name: 'train.csv',
      size: body.length,
      sha256: sha(body),
      uri: `s3://${bucket}/iris/train.csv`,
      etag: written.ETag,
      versionId: written.VersionId,
    });
    expect(written.VersionId).toBeTruthy();
    expect(second).toEqual(first);
    expect(afterFirst).toEqual(['HeadObjectCommand', 'GetObjectCommand']);
    // The second time the store is asked (HEAD, with the run's keys), not read.
    expect(requests.slice(afterFirst.length)).toEqual(['HeadObjectCommand']);
    expect(readFileSync(join(dir, 'two', 'train.csv'), 'utf8')).toBe(body);
  });

  it('records the new version when the object changes', async () => {
    await put('iris/changing.csv', 'v1\n');
    const inputs = fetcher();
    const request = {
      uri: `s3://${bucket}/iris/changing.csv`,
      trusted: true,
      secrets: repositorySecrets,
    };
    const [before] = await inputs.fetch({
      ...request,
      destDir: join(dir, 'a'),
    });
    const rewritten = await put('iris/changing.csv', 'v2, longer\n');
    const [after] = await inputs.fetch({ ...request, destDir: join(dir, 'b') });

    expect(after?.sha256).toBe(sha('v2, longer\n'));
    expect(after?.versionId).toBe(rewritten.VersionId);
    expect(after?.versionId).not.toBe(before?.versionId);
    expect(after?.etag).not.toBe(before?.etag);
  });

  it('expands globs: * within a segment, ** across, with keep-directories', async () => {
    for (const key of [
      'glob/a.csv',
      'glob/b.csv',
      'glob/notes.txt',
      'glob/deep/a.csv',
      'glob/deep/c.csv',
    ]) {
      await put(key, `${key}\n`);
    }
    const inputs = fetcher();
    const access = { trusted: true, secrets: repositorySecrets };

    const flat = await inputs.fetch({
      uri: `s3://${bucket}/glob/*.csv`,
      destDir: join(dir, 'flat'),
      ...access,
    });
    const deep = await inputs.fetch({
      uri: `s3://${bucket}/glob/**.csv`,
      destDir: join(dir, 'deep'),
      keepDirectories: 'suffix',
      ...access,
    });

    expect(flat.map((file) => [file.name, file.uri])).toEqual([
      ['a.csv', `s3://${bucket}/glob/a.csv`],
      ['b.csv', `s3://${bucket}/glob/b.csv`],
    ]);
    expect(flat.every((file) => file.etag && file.versionId)).toBe(true);
    expect(deep.map((file) => file.name)).toEqual([
      'a.csv',
      'b.csv',
      'deep/a.csv',
      'deep/c.csv',
    ]);
    expect(readFileSync(join(dir, 'deep', 'deep', 'c.csv'), 'utf8')).toBe(
      'glob/deep/c.csv\n',
    );
    const nothing = await failure(
      inputs.fetch({
        uri: `s3://${bucket}/glob/*.parquet`,
        destDir: join(dir, 'none'),
        ...access,
      }),
    );
    expect(nothing.code).toBe('NO_MATCH');
    const clash = await failure(
      inputs.fetch({
        uri: `s3://${bucket}/glob/**.csv`,
        destDir: join(dir, 'clash'),
        ...access,
      }),
    );
    expect(clash.code).toBe('NO_MATCH');
    expect(clash.message).toContain('keep-directories');
  });

  it('gives fork runs no credentials: public objects only', async () => {
    await put('open/public.csv', 'public\n', 'public-read');
    await put('open/private.csv', 'private\n');
    const inputs = fetcher('worker');
    let secretsRead = 0;
    const fork = {
      trusted: false,
      secrets: () => {
        secretsRead += 1;
        return repositorySecrets();
      },
    };

    const [open] = await inputs.fetch({
      uri: `s3://${bucket}/open/public.csv`,
      destDir: join(dir, 'public'),
      ...fork,
    });
    const denied = await failure(
      inputs.fetch({
        uri: `s3://${bucket}/open/private.csv`,
        destDir: join(dir, 'private'),
        ...fork,
      }),
    );

    expect(open?.sha256).toBe(sha('public\n'));
    expect(denied.code).toBe('DOWNLOAD_FAILED');
    expect(denied.message).toContain('HTTP 403');
    expect(denied.message).toContain(
      'fork pull requests get no data-lake credentials',
    );
    expect(secretsRead).toBe(0);
  });

  it("uses the worker's credentials only when the operator says so", async () => {
    await put('worker/data.csv', 'w\n');
    // The worker's own AWS environment is the lake owner's here.
    vi.stubEnv('AWS_ACCESS_KEY_ID', lake.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', lake.secretAccessKey);
    const request = {
      uri: `s3://${bucket}/worker/data.csv`,
      trusted: true,
      secrets: () => Promise.resolve({}),
    };

    const refused = await failure(
      fetcher('repository').fetch({ ...request, destDir: join(dir, 'a') }),
    );
    const [read] = await fetcher('worker').fetch({
      ...request,
      destDir: join(dir, 'b'),
    });

    expect(refused.message).toContain('HTTP 403');
    expect(refused.message).toContain('KILN_DATA_CREDENTIALS=worker');
    expect(read?.sha256).toBe(sha('w\n'));
  });

  describe('prepareInputs', () => {
    let server: Server;
    let base: string;

    beforeAll(async () => {
      server = createServer((req, res) => {
        if (
          req.headers.authorization !==
          `Basic ${Buffer.from('me:pa55word').toString('base64')}`
        ) {
          res.writeHead(401).end();
          return;
        }
        res.writeHead(200, { etag: '"h1"' }).end('from https\n');
      });
      await new Promise<void>((resolve) =>
        server.listen(0, '127.0.0.1', resolve),
      );
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    function deps(
      policy?: InputFetchPolicy,
    ): Parameters<typeof prepareInputs>[0] {
      const made = fetcher();
      return {
        executions: {} as WorkerDeps['executions'],
        artifacts: new FsArtifactStore(join(dir, 'artifacts')),
        inputFetcher: new InputFetcher({
          cacheDir: join(dir, 'cache'),
          access: made.access,
          policy,
        }),
        secretsFor: async (repository) => {
          expect(repository).toBe('acme/iris');
          return {
            AWS_ACCESS_KEY_ID: lake.accessKeyId,
            AWS_SECRET_ACCESS_KEY: lake.secretAccessKey,
          };
        },
      };
    }

    it('records each file with its object version, and never a credential', async () => {
      const written = await put('prepare/train.csv', 'train\n');
      await put('prepare/shards/1.csv', 'one\n');
      await put('prepare/shards/2.csv', 'two\n');
      const inputsDir = join(dir, 'inputs');

      const records = await prepareInputs(
        deps(new InputFetchPolicy({ privateNetworks: ['127.0.0.1/32'] })),
        {
          inputs: [input('train'), input('shards'), input('notes')],
          uris: {
            train: [`s3://${bucket}/prepare/train.csv`],
            shards: [`s3://${bucket}/prepare/shards/*`],
            notes: [`${base.replace('//', '//me:pa55word@')}/notes.txt`],
          },
          dir: inputsDir,
          repository: 'acme/iris',
          trusted: true,
        },
      );

      expect(records).toEqual([
        {
          input: 'train',
          name: 'train.csv',
          uri: `s3://${bucket}/prepare/train.csv`,
          size: 6,
          sha256: sha('train\n'),
          etag: written.ETag,
          versionId: written.VersionId,
        },
        expect.objectContaining({
          input: 'shards',
          name: '1.csv',
          uri: `s3://${bucket}/prepare/shards/1.csv`,
        }),
        expect.objectContaining({
          input: 'shards',
          name: '2.csv',
          uri: `s3://${bucket}/prepare/shards/2.csv`,
        }),
        {
          input: 'notes',
          name: 'notes.txt',
          uri: `${base}/notes.txt`,
          size: 11,
          sha256: sha('from https\n'),
          etag: '"h1"',
        },
      ]);
      const stored = JSON.stringify(records);
      expect(stored).not.toContain('pa55word');
      expect(stored).not.toContain(lake.secretAccessKey);
      expect(readFileSync(join(inputsDir, 'shards', '2.csv'), 'utf8')).toBe(
        'two\n',
      );
    });

    it('refuses an https input on loopback unless the operator allows it', async () => {
      const request = {
        inputs: [input('notes')],
        uris: { notes: [`${base.replace('//', '//me:pa55word@')}/notes.txt`] },
        dir: join(dir, 'inputs'),
        repository: 'acme/iris',
        trusted: true,
      };

      const error = await failure(prepareInputs(deps(), request));

      expect(error.code).toBe('INPUT_UNAVAILABLE');
      expect(error.message).toContain('input "notes"');
      expect(error.message).toContain('loopback');
      expect(error.message).not.toContain('pa55word');
    });

    it('fetches a fork run’s s3 input without the repository’s secrets', async () => {
      await put('prepare/private.csv', 'p\n');
      let asked = 0;
      const forkDeps = {
        ...deps(),
        secretsFor: async () => {
          asked += 1;
          return {};
        },
      };

      const error = await failure(
        prepareInputs(forkDeps, {
          inputs: [input('data')],
          uris: { data: [`s3://${bucket}/prepare/private.csv`] },
          dir: join(dir, 'inputs'),
          repository: 'acme/iris',
          trusted: false,
        }),
      );

      expect(error.message).toContain('HTTP 403');
      expect(asked).toBe(0);
    });
  });
});
