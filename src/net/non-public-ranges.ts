/**
 * Address ranges that are not on the public internet: loopback, private,
 * link-local (cloud metadata at 169.254.169.254), shared (carrier NAT),
 * documentation, benchmarking, multicast and reserved. A step's network
 * (`network: true`) refuses them, so what a step can reach is the public
 * internet and nothing of the machine or the site it runs in.
 *
 * Source: IANA's IPv4 and IPv6 Special-Purpose Address Registries (entries
 * marked "Globally Reachable: False"), plus multicast and the reserved
 * 240.0.0.0/4, which those registries leave out.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export const NON_PUBLIC_IPV4_RANGES: readonly string[] = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // private
  '100.64.0.0/10', // shared address space (carrier-grade NAT)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata services
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation (TEST-NET-1)
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation (TEST-NET-2)
  '203.0.113.0/24', // documentation (TEST-NET-3)
  '224.0.0.0/3', // multicast, reserved and broadcast
];

export const NON_PUBLIC_IPV6_RANGES: readonly string[] = [
  '::/128', // unspecified
  '::1/128', // loopback
  '100::/64', // discard-only
  '2001:db8::/32', // documentation
  'fc00::/7', // unique local (private)
  'fe80::/10', // link-local
  'ff00::/8', // multicast
];

const nonPublic = toBlockList([
  ...NON_PUBLIC_IPV4_RANGES,
  ...NON_PUBLIC_IPV6_RANGES,
]);

/**
 * True for an address in one of the ranges above (an IPv4-mapped IPv6
 * address is judged by its IPv4 part). Not an IP address: false.
 */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return isNonPublicAddress(mapped);
  if (isIPv4(address)) return nonPublic.check(address, 'ipv4');
  if (isIPv6(address)) return nonPublic.check(address, 'ipv6');
  return false;
}

/** A `BlockList` of `address/prefix` ranges (IPv4 or IPv6). */
export function toBlockList(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const [address = '', prefix = ''] = range.split('/');
    list.addSubnet(address, Number(prefix), isIPv4(address) ? 'ipv4' : 'ipv6');
  }
  return list;
}
