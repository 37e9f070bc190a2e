/**
 * Credentials written in an input URL (issue 11 item 1, reliability plan
 * §1): `kiln run` with a real Redis, the real Docker engine and a real HTTP
 * server that wants basic auth. Every value kiln stored in Redis (run and
 * execution records, events, logs, queues) is read back and searched for
 * the password.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo } from '../../helpers/git-repo.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import { BUSYBOX_IMAGE, haveImage, haveRedis } from '../../helpers/services.js';

const run = promisify(execFile);
const kiln = join(process.cwd(), 'bin', 'kiln.js');
const ready = haveRedis() && haveImage(BUSYBOX_IMAGE);
const PASSWORD = 'Zx9-input-url-password-Qw7';

describe.skipIf(!ready)(
  'credentials in an input URL (kiln run, Docker)',
  () => {
    let redis: TestRedis;
    let server: Server;
    let port = 0;
    let dataDir: string;
    const repos: string[] = [];
    const seen: string[] = [];

    beforeAll(async () => {
      redis = await startTestRedis();
      dataDir = mkdtempSync(join(tmpdir(), 'kiln-data-'));
      server = createServer((request, response) => {
        seen.push(request.headers.authorization ?? '');
        const expected = `Basic ${Buffer.from(`reader:${PASSWORD}`).toString('base64')}`;
        if (request.headers.authorization !== expected) {
          response.writeHead(401).end();
          return;
        }
        response.end('a,b\n1,2\n');
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const address = server.address();
      port = typeof address === 'object' && address ? address.port : 0;
    });

    afterAll(async () => {
      await new Promise((done) => server?.close(done));
      await redis?.close();
      rmSync(dataDir, { recursive: true, force: true });
      for (const repo of repos) rmSync(repo, { recursive: true, force: true });
    });

    async function kilnRun(
      config: string,
      ...args: string[]
    ): Promise<{ code: number; stdout: string; stderr: string }> {
      const repo = createRepo({ 'kiln.yaml': config });
      repos.push(repo);
      const env = {
        ...process.env,
        REDIS_URL: redis.url,
        KILN_DATA_DIR: dataDir,
        KILN_RUNTIME: 'docker',
        KILN_REDIS_PREFIX: 'kilncred',
        KILN_INPUT_PRIVATE_NETWORKS: '127.0.0.1/32',
      };
      try {
        const { stdout, stderr } = await run(
          'node',
          [kiln, 'run', ...args, '--json', '-C', repo],
          { env, maxBuffer: 16 * 1024 * 1024 },
        );
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failure = error as {
          code: number;
          stdout: string;
          stderr: string;
        };
        return failure;
      }
    }

    /** Every key and value under kiln's prefix, as text. */
    async function everythingStored(): Promise<string> {
      const client = new Redis(redis.url);
      try {
        const parts: string[] = [];
        for (const key of await client.keys('*')) {
          const type = await client.type(key);
          const value =
            type === 'string'
              ? await client.getBuffer(key).then((b) => b?.toString('latin1'))
              : type === 'hash'
                ? await client.hgetall(key)
                : type === 'list'
                  ? await client.lrange(key, 0, -1)
                  : type === 'set'
                    ? await client.smembers(key)
                    : type === 'zset'
                      ? await client.zrange(key, 0, -1)
                      : type === 'stream'
                        ? await client.xrange(key, '-', '+')
                        : null;
          parts.push(key, JSON.stringify(value));
        }
        return parts.join('\n');
      } finally {
        client.disconnect();
      }
    }

    it('fetches with the credentials of a YAML default, and stores the URL without them', async () => {
      const url = `http://reader:${PASSWORD}@127.0.0.1:${port}/data.csv`;
      const config = `
- step:
    name: fetch
    image: ${BUSYBOX_IMAGE}
    command:
      - cat /valohai/inputs/data/data.csv
      - cat /valohai/config/inputs.json
    inputs:
      - name: data
        default: ${url}
`;

      const result = await kilnRun(config, 'fetch');

      expect(result.code, result.stderr).toBe(0);
      expect(seen.at(-1)).toContain('Basic ');
      const json = JSON.parse(result.stdout) as RunJson;
      expect(json.executions[0]?.inputs[0]?.uri).toBe(
        `http://127.0.0.1:${port}/data.csv`,
      );
      // The run says where the password still is: the file itself.
      expect(json.run.findings.map((f) => f.message)).toEqual([
        expect.stringContaining(
          'input "data" of step "fetch" has a user and password in its URL',
        ),
      ]);
      const stored = await everythingStored();
      expect(stored).toContain('data.csv');
      // The stored configuration is the commit's file as written; every
      // record, event and log line made from it leaves the password out.
      const withoutConfig = stored
        .split('\n')
        .filter((line) => !line.includes('- step:'))
        .join('\n');
      expect(withoutConfig).not.toContain(PASSWORD);
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    }, 120_000);

    it('says why a fetch with wrong credentials failed, without them', async () => {
      const url = `http://reader:not-${PASSWORD}@127.0.0.1:${port}/data.csv`;
      const config = `
- step:
    name: fetch
    image: ${BUSYBOX_IMAGE}
    command: cat /valohai/inputs/data/data.csv
    inputs:
      - name: data
        default: ${url}
`;

      const result = await kilnRun(config, 'fetch');

      expect(result.code).toBe(1);
      const json = JSON.parse(result.stdout) as RunJson;
      expect(json.run.nodes[0]?.message).toBe(
        `input "data": downloading http://127.0.0.1:${port}/data.csv failed: HTTP 401; check the URL and its credentials`,
      );
      const stored = await everythingStored();
      expect(stored).toContain('HTTP 401');
      const withoutConfig = stored
        .split('\n')
        .filter((line) => !line.includes('- step:'))
        .join('\n');
      expect(withoutConfig).not.toContain(PASSWORD);
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    }, 120_000);

    it('refuses an s3:// URL with credentials in it, without repeating them', async () => {
      const config = `
- step:
    name: fetch
    image: ${BUSYBOX_IMAGE}
    command: ls /valohai/inputs/data
    inputs:
      - name: data
        default: s3://AKIAEXAMPLE:${PASSWORD}@bucket-one/data.csv
`;

      const result = await kilnRun(config, 'fetch');

      expect(result.code).toBe(1);
      const json = JSON.parse(result.stdout) as RunJson;
      expect(json.run.nodes[0]?.message).toBe(
        `input "data": "s3://…@bucket-one" has credentials in it; s3:// URLs take none: they come from the repository's AWS_* secrets or the worker's AWS settings`,
      );
      const stored = await everythingStored();
      const withoutConfig = stored
        .split('\n')
        .filter((line) => !line.includes('- step:'))
        .join('\n');
      expect(withoutConfig).toContain('has credentials in it');
      expect(withoutConfig).not.toContain(PASSWORD);
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    }, 120_000);
  },
);

interface RunJson {
  run: {
    findings: Array<{ message: string }>;
    nodes: Array<{ status: string; message?: string }>;
  };
  executions: Array<{ inputs: Array<{ uri: string }> }>;
}
