/**
 * Issue 11's worst finding, end to end: an approved fork run (`trusted:
 * false`) whose step asks for `network: true`, on a real `kiln worker`
 * (Docker runtime) next to a real `kiln server`. From inside the step's
 * container it tries what the probe did — `HGETALL` the secrets out of
 * kiln's Redis on loopback with nc, reach the API and the worker's metrics
 * on every address of the host — and says whether it got the repository's
 * secret. Controls: this process reaches the same listeners, and the same
 * pipeline as a trusted run does get the secret (masked), so its absence
 * is the trust decision, not a broken setup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/model/run.js';
import { toTableName } from '../../../src/runtime/docker/render-step-network-rules.js';
import { createSecretStore } from '../../../src/secrets/secret-store.js';
import { freePort } from '../../helpers/redis-server.js';
import {
  BUSYBOX_IMAGE,
  hasCommand,
  haveImage,
  haveRedis,
  requireService,
} from '../../helpers/services.js';
import {
  REPOSITORY,
  startServiceFixture,
  waitFor,
  waitForRun,
  type ServiceFixture,
} from './service-fixture.js';

const ok =
  haveRedis() &&
  haveImage(BUSYBOX_IMAGE) &&
  requireService(
    'nftables as root',
    hasCommand('nft') && process.getuid?.() === 0,
    'apt-get install -y nftables and run the tests as root (scripts/setup-machine.sh)',
  );

const KILN_BIN = resolve(import.meta.dirname, '../../../bin/kiln.js');
const SECRET = `fork-must-not-see-${randomBytes(6).toString('hex')}`;

function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined)
    .filter((entry) => entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry.address);
}

/** A one-step kiln.yaml whose commands run in order under `set -e`. */
function probeConfig(commands: string[]): string {
  return [
    '- step:',
    '    name: probe',
    `    image: ${BUSYBOX_IMAGE}`,
    '    network: true',
    '    command:',
    ...commands.map((command) => `      - ${JSON.stringify(command)}`),
    '',
  ].join('\n');
}

describe.skipIf(!ok)('a fork run with network: true', () => {
  const network = `kt-${randomBytes(3).toString('hex')}`;
  let fixture: ServiceFixture;
  let server: ChildProcess | undefined;
  let serverDir = '';
  let apiPort = 0;
  let metricsPort = 0;

  beforeAll(async () => {
    fixture = await startServiceFixture();
    await createSecretStore(fixture.redisClient, fixture.keys).set(
      REPOSITORY,
      'FORK_TOKEN',
      SECRET,
    );
    apiPort = await freePort();
    metricsPort = await freePort();
    serverDir = mkdtempSync(join(tmpdir(), 'kiln-fork-server-'));
    let output = '';
    server = spawn(process.execPath, [KILN_BIN, 'server'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        REDIS_URL: fixture.redis.url,
        KILN_DATA_DIR: serverDir,
        KILN_PORT: String(apiPort),
        KILN_HOST: '0.0.0.0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('kiln server to answer', 60_000, async () => {
      if (server?.exitCode !== null)
        throw new Error(`server exited:\n${output}`);
      const answer = await fetch(`http://127.0.0.1:${apiPort}/healthz`).catch(
        () => null,
      );
      return answer?.ok === true;
    });
  }, 120_000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await fixture?.close();
    rmSync(serverDir, { recursive: true, force: true });
    for (const [command, ...args] of [
      ['docker', 'network', 'rm', network],
      ['nft', 'delete', 'table', 'inet', toTableName(network)],
    ] as const) {
      try {
        execFileSync(command, args, { stdio: 'ignore' });
      } catch {
        // Never created: a test failed before the worker made it.
      }
    }
  }, 60_000);

  it('is refused a worker whose steps would share the host network with this password-less Redis', async () => {
    const worker = await fixture.spawnWorker({
      id: 'unsafe-host',
      runtime: 'docker',
      env: { KILN_UNSAFE_STEP_HOST_NETWORK: 'true' },
      waitUntilStarted: false,
    });

    const code = await worker.exited;

    expect(code).not.toBe(0);
    expect(worker.output()).toContain(
      `the Redis at 127.0.0.1:${fixture.redis.port} answers without a password`,
    );
    expect(worker.output()).toContain(
      'KILN_UNSAFE_REDIS_WITHOUT_PASSWORD=true',
    );
  });

  it('reads the secrets out of Redis when the operator opts into both unsafe modes (what the probe found)', async () => {
    const worker = await fixture.spawnWorker({
      id: 'unsafe-both',
      runtime: 'docker',
      env: {
        KILN_UNSAFE_STEP_HOST_NETWORK: 'true',
        KILN_UNSAFE_REDIS_WITHOUT_PASSWORD: 'true',
        KILN_WORKER_PORT: String(metricsPort),
        KILN_HOST: '0.0.0.0',
      },
    });
    const { targets, config } = probePipeline();

    const fork = await runToTheEnd(
      await fixture.startRun(config, 'probe', { trusted: false }),
    );
    worker.child.kill('SIGTERM');
    await worker.exited;

    const probes = (await logOf(fork))
      .split('\n')
      .filter((line) => line.startsWith('probe '));
    expect(probes).toHaveLength(targets.length);
    // An array reply: the hash of secrets, read with nc from the step.
    expect(probes[0]).toBe(`probe 127.0.0.1:${fixture.redis.port} *2`);
    expect(
      probes.filter((line) => line.endsWith('HTTP/1.1 200 OK')),
    ).not.toEqual([]);
  });

  it("reaches neither kiln's Redis, API nor metrics, and gets no secret", async () => {
    const worker = await fixture.spawnWorker({
      id: 'isolated',
      runtime: 'docker',
      env: {
        KILN_STEP_NETWORK: network,
        KILN_WORKER_PORT: String(metricsPort),
        KILN_HOST: '0.0.0.0',
      },
    });
    expect(worker.output()).toContain(
      `steps with network: true use kiln's network \\"${network}\\"`,
    );
    const hosts = hostAddresses();
    // Controls: the API and the metrics answer on every host address.
    for (const host of hosts) {
      for (const port of [apiPort, metricsPort]) {
        const answer = await fetch(`http://${host}:${port}/healthz`);
        expect(answer.status, `${host}:${port}`).toBe(200);
      }
    }
    const { targets, config } = probePipeline();

    const fork = await runToTheEnd(
      await fixture.startRun(config, 'probe', { trusted: false }),
    );
    const trusted = await runToTheEnd(await fixture.startRun(config, 'probe'));

    const forkLog = await logOf(fork);
    const probes = forkLog
      .split('\n')
      .filter((line) => line.startsWith('probe '));
    expect(probes, forkLog).toHaveLength(targets.length);
    for (const line of probes) expect(line).toMatch(/can't connect/);
    expect(forkLog).toContain('secret absent');
    expect(forkLog).not.toContain(SECRET);
    const trustedLog = await logOf(trusted);
    expect(trustedLog).toContain('secret present');
    expect(trustedLog).not.toContain(SECRET);
  });

  /** The fork's attempts: Redis on loopback, then API and metrics everywhere. */
  function probePipeline(): { targets: string[]; config: string } {
    const hosts = hostAddresses();
    const targets = [
      `127.0.0.1 ${fixture.redis.port} 'HGETALL kiln:secrets:${REPOSITORY}'`,
      `$gateway ${fixture.redis.port} PING`,
      ...[apiPort, metricsPort].flatMap((port) => [
        `$gateway ${port} 'GET /healthz HTTP/1.0'`,
        ...hosts.map((host) => `${host} ${port} 'GET /healthz HTTP/1.0'`),
      ]),
    ];
    const config = probeConfig([
      "gateway=$(ip route | awk '/^default/ {print $3}')",
      `probe() { out=$( (printf '%s\\r\\n\\r\\n' "$3" | nc -w 2 "$1" "$2") 2>&1 || true); echo "probe $1:$2 $(echo "$out" | head -n 1 | tr -d '\\r')"; }`,
      ...targets.map((target) => `probe ${target}`),
      'if [ -n "${FORK_TOKEN:-}" ]; then echo "secret present: $FORK_TOKEN"; else echo "secret absent"; fi',
    ]);
    return { targets, config };
  }

  async function runToTheEnd(created: RunRecord): Promise<RunRecord> {
    return waitForRun(
      fixture,
      created.id,
      (run) => run.nodes.every((node) => node.endedAt !== undefined),
      120_000,
    );
  }

  async function logOf(run: RunRecord): Promise<string> {
    const [execution] = await fixture.executionsOf(run);
    expect(execution?.status, await fixture.describe(run.id)).toBe('complete');
    return fixture.logText(execution?.id ?? '');
  }
});
