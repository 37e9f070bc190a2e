/**
 * kiln's step network against the real Docker engine and nftables, probed
 * from INSIDE step containers with busybox's `nc`: what a `network: true`
 * step can and can't open a TCP connection to. Every "can't" is paired
 * with a control showing the target really listens (from this process, or
 * from a step in the unsafe host mode), so a refusal means the network
 * refused, not that nothing was there.
 *
 * Needs root and `nft` (the rules are the host's firewall): run by CI as
 * root after scripts/setup-machine.sh.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import type { StepNetworkSetting } from '../../../src/runtime/docker/docker-runtime.js';
import { toContainerName } from '../../../src/runtime/docker/build-container-options.js';
import { toTableName } from '../../../src/runtime/docker/render-step-network-rules.js';
import { RuntimeError } from '../../../src/runtime/runtime.js';
import type { StepSpec } from '../../../src/runtime/runtime.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis-server.js';
import {
  BUSYBOX_IMAGE,
  hasCommand,
  haveImage,
  haveRedis,
  requireService,
} from '../../helpers/services.js';

const ok =
  haveImage(BUSYBOX_IMAGE) &&
  haveRedis() &&
  requireService(
    'nftables as root',
    hasCommand('nft') && process.getuid?.() === 0,
    'apt-get install -y nftables and run the tests as root (scripts/setup-machine.sh)',
  );

/**
 * A shell function for step scripts: `probe HOST PORT` prints
 * `probe HOST:PORT <first line received, or nc's error>`. It sends a Redis
 * PING, so a Redis answers `+PONG`; other listeners here greet first.
 */
const PROBE = [
  'probe() { out=$( (printf \'PING\\r\\n\' | nc -w 2 "$1" "$2") 2>&1 || true)',
  '  echo "probe $1:$2 $(echo "$out" | head -n 1 | tr -d \'\\r\')"; }',
].join('\n');
const GATEWAY = "$(ip route | awk '/^default/ {print $3}')";

function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined)
    .filter((entry) => entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry.address);
}

/** First line `command` prints in a running container, '' on failure. */
async function execIn(container: string, command: string): Promise<string> {
  try {
    return (
      execFileSync('docker', ['exec', container, 'sh', '-c', command], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      }).split('\n')[0] ?? ''
    );
  } catch {
    return '';
  }
}

/** `nft` output, '' when it fails (the table is absent). */
async function execNft(args: string[]): Promise<string> {
  try {
    return execFileSync('nft', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return '';
  }
}

async function greet(host: string, port: number, send = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port }, () => socket.write(send));
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
    socket.once('data', (data) => {
      resolve(data.toString().split('\n')[0] ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe.skipIf(!ok)('kiln step network (real Docker, nftables)', () => {
  const docker = new Dockerode();
  const suffix = randomBytes(3).toString('hex');
  const name = `kt-${suffix}`;
  const lanName = `kt-${suffix}-lan`;
  const workerId = `test-${suffix}`;
  const lanContainers: string[] = [];
  const runtimes: DockerRuntime[] = [];
  let stateDir = '';
  let redis: TestRedis;
  let listener: Server;
  let listenerPort = 0;
  // Two services on a private Docker network of their own, standing for
  // the site's LAN: `resolver` (port 53, named as the steps' DNS, and
  // 8080) and `mirror` (8080, the one allowed range).
  let resolver = '';
  let mirror = '';
  let runtime: DockerRuntime;

  function runtimeWith(stepNetwork: StepNetworkSetting): DockerRuntime {
    const made = new DockerRuntime({ docker, workerId, stepNetwork });
    runtimes.push(made);
    return made;
  }

  function isolated(
    overrides: Partial<Extract<StepNetworkSetting, { mode: 'isolated' }>> = {},
  ): StepNetworkSetting {
    return {
      mode: 'isolated',
      name,
      allow: [`${mirror}/32`],
      dns: [resolver],
      stateDir,
      ...overrides,
    };
  }

  function specFor(commands: string[], network: boolean): StepSpec {
    return {
      executionId: `t-${randomUUID()}`,
      attempt: 1,
      image: BUSYBOX_IMAGE,
      commands: [PROBE, ...commands],
      env: {},
      workdir: '/',
      mounts: [],
      network,
      resources: {},
      labels: { 'test.file': 'step-network' },
      timeLimitMs: 60_000,
    };
  }

  async function runStep(
    on: DockerRuntime,
    commands: string[],
    network = true,
  ): Promise<string> {
    let text = '';
    const result = await on.run(specFor(commands, network), {
      stdout: (chunk) => (text += chunk.toString()),
      stderr: (chunk) => (text += chunk.toString()),
    });
    expect(result.reason, text).toEqual({ kind: 'exited', exitCode: 0 });
    return text;
  }

  /** `probe` lines of a step's output, as target → what came back. */
  function probes(text: string): Record<string, string> {
    const found: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const match = /^probe (\S+) ?(.*)$/.exec(line);
      if (match) found[match[1] ?? ''] = match[2] ?? '';
    }
    return found;
  }

  async function startLanService(script: string): Promise<string> {
    const container = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ['sh', '-c', script],
      Labels: { 'test.file': 'step-network' },
      HostConfig: { NetworkMode: lanName, AutoRemove: true },
    });
    lanContainers.push(container.id);
    await container.start();
    const info = await container.inspect();
    return info.NetworkSettings.Networks[lanName]?.IPAddress ?? '';
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'kiln-step-network-'));
    redis = await startTestRedis();
    listener = createServer((socket) => {
      // Read (and drop) what probes send, or their close goes unnoticed.
      socket.resume();
      socket.end('kiln-listener\n');
    });
    await new Promise<void>((resolve) =>
      listener.listen(0, '0.0.0.0', () => resolve()),
    );
    const address = listener.address();
    listenerPort = typeof address === 'object' && address ? address.port : 0;
    await docker.createNetwork({
      Name: lanName,
      Driver: 'bridge',
      Options: { 'com.docker.network.bridge.name': lanName },
      Labels: { 'test.file': 'step-network' },
    });
    const serve = (port: number, word: string) =>
      `while true; do echo ${word} | nc -l -p ${port}; done`;
    resolver = await startLanService(
      `${serve(53, 'resolver-53')} & ${serve(8080, 'resolver-8080')}`,
    );
    mirror = await startLanService(serve(8080, 'mirror-8080'));
    runtime = runtimeWith(isolated());
  }, 60_000);

  afterAll(async () => {
    for (const made of runtimes) await made.reapOrphans();
    for (const id of lanContainers) {
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    }
    for (const network of [name, lanName, `${name}-x`]) {
      await docker
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
    }
    try {
      execFileSync('nft', ['delete', 'table', 'inet', toTableName(name)], {
        stdio: 'ignore',
      });
    } catch {
      // Not loaded (a test failed before creating it).
    }
    await new Promise((resolve) => listener?.close(resolve));
    await redis?.close();
    await rm(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('gives a step without network: true no network at all', async () => {
    const text = await runStep(
      runtime,
      [
        'awk -F: \'NR>2{gsub(/ /,"",$1); print "interface " $1}\' /proc/net/dev',
        `probe ${hostAddresses()[0]} ${listenerPort}`,
        `probe 8.8.8.8 53`,
      ],
      false,
    );

    expect(text.match(/^interface .*/gm)).toEqual(['interface lo']);
    expect(Object.values(probes(text))).toEqual([
      expect.stringMatching(/Network is unreachable/),
      expect.stringMatching(/Network is unreachable/),
    ]);
  });

  it("reaches nothing of the host: its loopback Redis, a listener on every address, through the gateway or the host's own addresses", async () => {
    const hosts = hostAddresses();
    // Controls: both really listen, and answer from here.
    expect(await greet('127.0.0.1', redis.port, 'PING\r\n')).toBe('+PONG\r');
    for (const host of hosts) {
      expect(await greet(host, listenerPort)).toBe('kiln-listener');
    }

    const text = await runStep(runtime, [
      `probe 127.0.0.1 ${redis.port}`,
      `probe ${GATEWAY} ${redis.port}`,
      `probe ${GATEWAY} ${listenerPort}`,
      ...hosts.map((host) => `probe ${host} ${listenerPort}`),
      ...hosts.map((host) => `probe ${host} ${redis.port}`),
    ]);

    const seen = probes(text);
    expect(Object.keys(seen)).toHaveLength(3 + 2 * hosts.length);
    for (const [target, answer] of Object.entries(seen)) {
      expect(answer, target).toMatch(/can't connect/);
    }
  });

  it('reaches an allowed range and the resolvers on port 53, never the rest of a private network', async () => {
    // Controls: every LAN service answers from the host.
    expect(await greet(resolver, 8080)).toBe('resolver-8080');

    const text = await runStep(runtime, [
      'cat /etc/resolv.conf',
      `probe ${mirror} 8080`,
      `probe ${resolver} 53`,
      `probe ${resolver} 8080`,
    ]);

    expect(text).toContain(`nameserver ${resolver}`);
    expect(probes(text)).toEqual({
      [`${mirror}:8080`]: 'mirror-8080',
      [`${resolver}:53`]: 'resolver-53',
      [`${resolver}:8080`]: expect.stringMatching(/can't connect/),
    });
  });

  it("keeps steps on the network away from each other's ports", async () => {
    const abort = new AbortController();
    let listenerText = '';
    let announce: (ip: string) => void = () => undefined;
    const announced = new Promise<string>((resolve) => (announce = resolve));
    const spec = specFor(
      [
        'echo "address $(ip -4 -o addr show eth0 | awk \'{print $4}\' | cut -d/ -f1)"',
        'while true; do echo step-listener | nc -l -p 8080; done',
      ],
      true,
    );
    const listening = runtime.run(
      spec,
      {
        stdout: (chunk) => {
          listenerText += chunk.toString();
          const ip = /^address (\S+)/m.exec(listenerText)?.[1];
          if (ip) announce(ip);
        },
        stderr: () => undefined,
      },
      abort.signal,
    );
    try {
      const ip = await announced;
      // Control: the listener step answers, asked from inside its own
      // container (nothing from the bridge reaches the host, so the host
      // can't ask), once it listens.
      const deadline = Date.now() + 10_000;
      let answer = '';
      while (answer !== 'step-listener' && Date.now() < deadline) {
        answer = await execIn(toContainerName(spec), `nc -w 2 ${ip} 8080`);
      }
      expect(answer).toBe('step-listener');

      const text = await runStep(runtime, [`probe ${ip} 8080`]);

      expect(probes(text)[`${ip}:8080`]).toMatch(/can't connect/);
    } finally {
      abort.abort();
      await listening;
    }
  });

  it('puts its rules back when they are gone before a step runs', async () => {
    execFileSync('nft', ['delete', 'table', 'inet', toTableName(name)]);

    const text = await runStep(runtime, [`probe ${GATEWAY} ${listenerPort}`]);

    expect(Object.values(probes(text))).toEqual([
      expect.stringMatching(/can't connect/),
    ]);
    expect(
      execFileSync('nft', ['list', 'table', 'inet', toTableName(name)], {
        encoding: 'utf8',
      }),
    ).toContain('managed by kiln');
  });

  it('puts its rules back while a long step runs', async () => {
    const abort = new AbortController();
    let announce: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (announce = resolve));
    const running = runtime.run(
      specFor(['echo started', 'sleep 60'], true),
      {
        stdout: (chunk) => {
          if (chunk.toString().includes('started')) announce();
        },
        stderr: () => undefined,
      },
      abort.signal,
    );
    await started;
    const table = toTableName(name);

    execFileSync('nft', ['delete', 'table', 'inet', table]);
    let listing = '';
    const deadline = Date.now() + 15_000;
    while (!listing.includes('managed by kiln') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      listing = await execNft(['list', 'table', 'inet', table]);
    }
    abort.abort();
    await running;

    expect(listing).toContain('managed by kiln');
  });

  it.each([
    {
      what: 'nft is missing',
      setting: () => isolated({ nftCommand: '/nonexistent/nft' }),
      before: async () => undefined,
      message: /nft is not installed \(Debian package nftables\)/,
    },
    {
      what: "a network of that name is not kiln's",
      setting: () => isolated({ name: `${name}-x` }),
      before: async () => {
        await docker.createNetwork({ Name: `${name}-x`, Driver: 'bridge' });
      },
      message: /exists but kiln did not create it/,
    },
  ])(
    'refuses a network: true step, starting no container, when $what',
    async ({ setting, before, message }) => {
      await before();
      const refusing = runtimeWith(setting());
      const spec = specFor(['echo ran'], true);

      const attempt = refusing.run(spec, {
        stdout: () => undefined,
        stderr: () => undefined,
      });

      await expect(attempt).rejects.toThrow(RuntimeError);
      await expect(attempt).rejects.toMatchObject({
        code: 'NETWORK_UNAVAILABLE',
        message: expect.stringMatching(message),
      });
      expect(
        await docker.listContainers({
          all: true,
          filters: { label: [`kiln.execution=${spec.executionId}`] },
        }),
      ).toEqual([]);
    },
  );

  it('reaches all of it in the unsafe host mode (what network: true did before)', async () => {
    const unsafe = runtimeWith({ mode: 'unsafe-host' });

    const text = await runStep(unsafe, [
      `probe 127.0.0.1 ${redis.port}`,
      `probe ${hostAddresses()[0]} ${listenerPort}`,
    ]);

    expect(Object.values(probes(text))).toEqual([
      expect.stringMatching(/\+PONG/),
      'kiln-listener',
    ]);
  });

  it('writes the resolv.conf it mounts under the state dir', async () => {
    const ready = await runtime.checkStepNetwork();

    expect(ready.ok).toBe(true);
    expect(await readFile(join(stateDir, name, 'resolv.conf'), 'utf8')).toBe(
      `# Written by kiln for steps on its network "${name}".\nnameserver ${resolver}\n`,
    );
  });
});
