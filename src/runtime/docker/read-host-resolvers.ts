/**
 * The DNS resolvers a step can use when the operator names none: the
 * host's, from /etc/resolv.conf. A resolver on loopback (systemd-resolved's
 * 127.0.0.53) can't serve a container, so, as Docker does, kiln then reads
 * the upstream list systemd-resolved keeps.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';

const RESOLV_CONF_PATHS = [
  '/etc/resolv.conf',
  '/run/systemd/resolve/resolv.conf',
];

export async function readHostResolvers(
  paths: readonly string[] = RESOLV_CONF_PATHS,
): Promise<string[]> {
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    const usable = parseNameservers(text);
    if (usable.length > 0) return usable;
  }
  return [];
}

/** IPv4 `nameserver` entries of a resolv.conf, loopback ones left out. */
export function parseNameservers(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const address = /^\s*nameserver\s+(\S+)/.exec(line)?.[1];
    if (address && isIPv4(address) && !address.startsWith('127.')) {
      found.push(address);
    }
  }
  return found;
}
