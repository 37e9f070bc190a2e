/**
 * kiln's own network for `network: true` steps: a Docker bridge network
 * plus an nftables table (render-step-network-rules.ts) that lets steps
 * reach public addresses and nothing of the host or the site: no loopback,
 * no host address (kiln's Redis, API and metrics), no private, link-local
 * or other non-public range, no other step.
 *
 * Fail-closed by construction: `ensure` runs before every `network: true`
 * container; it creates what is missing, puts the table back when it is
 * gone or differs (a firewall reload, a reboot), and throws rather than
 * hand out a network whose rules it could not confirm. Nothing here falls
 * back to the host's network.
 *
 * Needs, on the host (docs/security.md, "Step network"): root (or
 * CAP_NET_ADMIN) in the host's network namespace, where the bridge is;
 * `nft` (Debian package nftables); br_netfilter, so frames between two
 * steps on the bridge meet the rules; `net.ipv4.ip_forward=1` for any
 * traffic to leave.
 *
 * Contract: safe to call concurrently (calls are serialised); idempotent.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { parseIpv4Cidr } from '../../net/parse-ipv4-cidr.js';
import { RuntimeError } from '../runtime.js';
import {
  describeDockerError,
  getDockerStatusCode,
} from './describe-docker-error.js';
import { readHostResolvers } from './read-host-resolvers.js';
import {
  readTableComment,
  renderStepNetworkRules,
  toTableName,
} from './render-step-network-rules.js';
import { runNft } from './run-nft.js';
import { writeResolvConf } from './write-resolv-conf.js';

export interface StepNetworkOptions {
  docker: Dockerode;
  /** Names the Docker network, its Linux bridge and the nftables table. */
  name: string;
  /** Non-public IPv4 ranges steps may reach anyway. @defaultValue [] */
  allow?: readonly string[];
  /** Resolvers for steps. @defaultValue the host's (read-host-resolvers.ts) */
  dns?: readonly string[];
  /**
   * Where the steps' resolv.conf is written; the engine mounts it, so it
   * must be a path the Docker engine sees (under the worker's data dir).
   */
  stateDir: string;
  /** @defaultValue 'nft' */
  nftCommand?: string;
}

export interface StepNetworkAttachment {
  /** The container's `NetworkMode`. */
  networkMode: string;
  /** Mounted read-only at /etc/resolv.conf. */
  resolvConfPath: string;
}

export interface StepNetworkReady extends StepNetworkAttachment {
  /** Holds, but something the operator should know (no resolver…). */
  warnings: string[];
}

const LABEL = 'kiln.step-network';
const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
// kiln's own table does the masquerading; Docker's iptables rules, if the
// engine has iptables on, are told to stay out.
const NETWORK_OPTIONS = {
  [BRIDGE_NAME_OPTION]: '',
  'com.docker.network.bridge.enable_ip_masquerade': 'false',
  'com.docker.network.bridge.enable_icc': 'false',
};
const BRIDGE_FILTER_SYSCTLS = [
  '/proc/sys/net/bridge/bridge-nf-call-iptables',
  '/proc/sys/net/bridge/bridge-nf-call-ip6tables',
];
const IP_FORWARD_SYSCTL = '/proc/sys/net/ipv4/ip_forward';

export class StepNetwork {
  readonly name: string;
  readonly #options: StepNetworkOptions;
  readonly #table: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: StepNetworkOptions) {
    this.name = options.name;
    this.#options = options;
    this.#table = toTableName(options.name);
  }

  /**
   * Makes the network and its rules what kiln wants, or throws a
   * `RuntimeError` `NETWORK_UNAVAILABLE` saying what the host lacks.
   */
  async ensure(): Promise<StepNetworkReady> {
    const next = this.#queue.then(() => this.#ensureNow());
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #ensureNow(): Promise<StepNetworkReady> {
    try {
      const subnet = await this.#ensureDockerNetwork();
      await checkBridgeIsHere(this.name);
      await enableBridgeFiltering(this.name);
      const dns = [...(this.#options.dns ?? (await readHostResolvers()))];
      const resolvConfPath = await writeResolvConf(
        this.#options.stateDir,
        this.name,
        dns,
      );
      await this.#ensureRules(subnet, dns);
      const warnings: string[] = [];
      if (dns.length === 0) {
        warnings.push(
          'steps on the network have no DNS resolver (the host has none on a non-loopback address): set KILN_STEP_NETWORK_DNS',
        );
      }
      if ((await readSysctl(IP_FORWARD_SYSCTL)) === '0') {
        warnings.push(
          'net.ipv4.ip_forward is 0, so steps with network: true reach nothing: set it to 1 (sysctl -w net.ipv4.ip_forward=1)',
        );
      }
      return { networkMode: this.name, resolvConfPath, warnings };
    } catch (error) {
      if (error instanceof RuntimeError) throw error;
      throw unavailable(this.name, (error as Error).message, error);
    }
  }

  /** Creates the network when absent; returns its IPv4 subnet. */
  async #ensureDockerNetwork(): Promise<string> {
    const { docker } = this.#options;
    let info = await this.#inspect();
    if (info === null) {
      try {
        await docker.createNetwork({
          Name: this.name,
          Driver: 'bridge',
          CheckDuplicate: true,
          EnableIPv6: false,
          Internal: false,
          Options: { ...NETWORK_OPTIONS, [BRIDGE_NAME_OPTION]: this.name },
          Labels: { [LABEL]: this.name, 'kiln.managed': 'true' },
        });
      } catch (error) {
        // 409: another worker on this engine created it first.
        if (getDockerStatusCode(error) !== 409) {
          throw unavailable(
            this.name,
            `could not create the Docker network: ${describeDockerError(error)}`,
          );
        }
      }
      info = await this.#inspect();
      if (info === null) {
        throw unavailable(
          this.name,
          'the Docker network vanished after creation',
        );
      }
    }
    if (
      info.Driver !== 'bridge' ||
      info.Labels?.[LABEL] !== this.name ||
      info.Options?.[BRIDGE_NAME_OPTION] !== this.name
    ) {
      throw unavailable(
        this.name,
        `a Docker network named "${this.name}" exists but kiln did not create it (driver ${info.Driver}, bridge ${info.Options?.[BRIDGE_NAME_OPTION] ?? 'unnamed'}): remove it (docker network rm ${this.name}) or set KILN_STEP_NETWORK to another name`,
      );
    }
    const subnet = (info.IPAM?.Config ?? [])
      .map((entry) => entry.Subnet ?? '')
      .find((entry) => parseIpv4Cidr(entry).ok);
    if (subnet === undefined) {
      throw unavailable(
        this.name,
        `the Docker network "${this.name}" has no IPv4 subnet`,
      );
    }
    return subnet;
  }

  async #inspect(): Promise<Dockerode.NetworkInspectInfo | null> {
    try {
      return (await this.#options.docker
        .getNetwork(this.name)
        .inspect()) as Dockerode.NetworkInspectInfo;
    } catch (error) {
      if (getDockerStatusCode(error) === 404) return null;
      throw new RuntimeError(
        'ENGINE_UNREACHABLE',
        `could not inspect the Docker network "${this.name}": ${describeDockerError(error)}`,
        { cause: error },
      );
    }
  }

  async #ensureRules(subnet: string, dns: readonly string[]): Promise<void> {
    const rules = renderStepNetworkRules({
      bridge: this.name,
      table: this.#table,
      subnet,
      allow: this.#options.allow ?? [],
      dns,
    });
    if ((await this.#readComment()) === rules.comment) return;
    const applied = await runNft(['-f', '-'], {
      command: this.#options.nftCommand,
      input: rules.script,
    });
    if (!applied.ok) throw unavailable(this.name, applied.problem);
    if ((await this.#readComment()) !== rules.comment) {
      throw unavailable(
        this.name,
        `the nftables table inet ${this.#table} is not the one kiln just loaded`,
      );
    }
  }

  async #readComment(): Promise<string | null> {
    const listed = await runNft(['list', 'table', 'inet', this.#table], {
      command: this.#options.nftCommand,
    });
    if (listed.ok) return readTableComment(listed.stdout);
    // Exit 1 with "No such file or directory": the table is not loaded.
    if (listed.status === 1) return null;
    throw unavailable(this.name, listed.problem);
  }
}

/**
 * The rules name the bridge; they only act where it is. A worker in a
 * container's own network namespace would load them there, uselessly.
 */
async function checkBridgeIsHere(name: string): Promise<void> {
  try {
    await access(join('/sys/class/net', name));
  } catch {
    throw unavailable(
      name,
      `its bridge "${name}" is not in this process's network namespace: run the worker in the host's network namespace (not in a container network), as root`,
    );
  }
}

/** br_netfilter: frames between two steps on the bridge meet the rules. */
async function enableBridgeFiltering(name: string): Promise<void> {
  for (const path of BRIDGE_FILTER_SYSCTLS) {
    const value = await readSysctl(path);
    if (value === null) {
      throw unavailable(
        name,
        `${path} is missing: load the br_netfilter kernel module (modprobe br_netfilter)`,
      );
    }
    if (value === '1') continue;
    try {
      await writeFile(path, '1\n');
    } catch (error) {
      throw unavailable(
        name,
        `${path} is ${value} and could not be set to 1 (${(error as Error).message}): set it (sysctl -w ${path.slice('/proc/sys/'.length).replace(/\//g, '.')}=1)`,
      );
    }
  }
}

function unavailable(
  name: string,
  reason: string,
  cause?: unknown,
): RuntimeError {
  return new RuntimeError(
    'NETWORK_UNAVAILABLE',
    `steps with network: true can't run: kiln's step network "${name}" is not isolated: ${reason} (see docs/security.md, "Step network")`,
    { cause },
  );
}

async function readSysctl(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}
