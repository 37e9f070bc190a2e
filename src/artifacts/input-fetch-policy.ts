/**
 * Which URLs kiln fetches inputs from. Input URLs are written in the
 * repository, so without this a step could make the worker read kiln's own
 * API, its Redis, the cloud metadata service or anything else on the
 * worker's networks (SSRF). The rules:
 *
 * - only `http:` and `https:` (and `s3://` through the S3 client);
 * - when `hosts` is not empty, only those host names (`*.example.com`
 *   matches subdomains);
 * - never an address that is loopback, link-local, private, shared
 *   (CGNAT), multicast or reserved, unless it is inside one of the
 *   operator's `privateNetworks`. The check runs on the addresses the
 *   connection really uses (the DNS answer, through `lookup`), and again
 *   on every redirect, so neither DNS rebinding nor a redirect gets round it.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { InputError } from './input-error.js';

export interface InputFetchPolicyOptions {
  /** Host names inputs may come from; empty or absent: any public host. */
  hosts?: string[];
  /** CIDRs (`10.1.0.0/16`, `127.0.0.1/32`, `fd00::/8`) allowed although private. */
  privateNetworks?: string[];
}

/** Ranges no input is fetched from unless the operator allows them. */
const BLOCKED: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'], // "this" network
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // shared address space (CGNAT)
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved and broadcast
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'], // NAT64: embeds any IPv4 address
  ['2001::', 32, 'ipv6'], // Teredo
  ['2002::', 16, 'ipv6'], // 6to4: embeds any IPv4 address
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

export class InputFetchPolicy {
  readonly hosts: string[];
  readonly privateNetworks: string[];
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  constructor(options: InputFetchPolicyOptions = {}) {
    this.hosts = (options.hosts ?? []).map((host) => host.toLowerCase());
    this.privateNetworks = options.privateNetworks ?? [];
    for (const [address, prefix, family] of BLOCKED) {
      this.blocked.addSubnet(address, prefix, family);
    }
    for (const network of this.privateNetworks) {
      const parsed = parseCidr(network);
      if (!parsed) {
        throw new InputError(
          'FORBIDDEN_ADDRESS',
          `"${network}" is not a network in CIDR form (such as 10.0.0.0/8 or fd00::/8)`,
        );
      }
      this.allowed.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
  }

  /** Throws unless `url` may be fetched by scheme and host name. */
  checkUrl(url: URL, shown: string): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InputError(
        'UNSUPPORTED_URI',
        `cannot read input ${shown}: only https://, http://, s3:// and datum:// inputs are supported; file paths on the kiln host are never readable by steps`,
      );
    }
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (
      this.hosts.length > 0 &&
      !this.hosts.some((allowed) => matchHost(host, allowed))
    ) {
      throw new InputError(
        'FORBIDDEN_ADDRESS',
        `input ${shown}: host ${host} is not in KILN_INPUT_HOSTS; ask the operator to add it`,
      );
    }
    if (isIP(host) !== 0) this.checkAddress(host, shown);
  }

  /** Throws when `address` is in a refused range and not explicitly allowed. */
  checkAddress(address: string, shown: string): void {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (!this.blocked.check(address, family)) return;
    if (this.allowed.check(address, family)) return;
    throw new InputError(
      'FORBIDDEN_ADDRESS',
      `input ${shown} resolves to ${address}, a loopback, link-local or private address; kiln does not fetch inputs from those unless the operator allows the network in KILN_INPUT_PRIVATE_NETWORKS`,
    );
  }

  /**
   * A `lookup` for `http.request`: resolves like the system does, refuses
   * the connection when any answer is in a refused range (a name that
   * resolves to both a public and a private address is refused outright).
   */
  lookupFor(shown: string): typeof dnsLookup {
    const lookup = (
      hostname: string,
      options: unknown,
      callback: (...args: unknown[]) => void,
    ): void => {
      const wantsAll =
        typeof options === 'object' &&
        options !== null &&
        (options as { all?: boolean }).all === true;
      const family =
        typeof options === 'number'
          ? options
          : typeof options === 'object' && options !== null
            ? ((options as { family?: number }).family ?? 0)
            : 0;
      dnsLookup(
        hostname,
        { all: true, family },
        (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
          if (error) {
            callback(error);
            return;
          }
          try {
            for (const entry of addresses)
              this.checkAddress(entry.address, shown);
          } catch (refused) {
            callback(refused);
            return;
          }
          if (wantsAll) callback(null, addresses);
          else callback(null, addresses[0]?.address, addresses[0]?.family);
        },
      );
    };
    return lookup as unknown as typeof dnsLookup;
  }
}

function matchHost(host: string, allowed: string): boolean {
  if (allowed.startsWith('*.')) return host.endsWith(allowed.slice(1));
  return host === allowed;
}

function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', bits, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Whether `text` is a CIDR list entry the policy accepts (for settings). */
export function isCidr(text: string): boolean {
  return parseCidr(text) !== null;
}
