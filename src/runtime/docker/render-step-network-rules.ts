/**
 * The nftables table that makes kiln's step network safe (docs/security.md,
 * "Step network"). Pure: the same options give the same text, and its
 * fingerprint (stored as the table's comment) tells whether the loaded
 * table is the one kiln wants.
 *
 * What the rules say, for traffic coming in on the network's bridge:
 * - input (to any address of this host: loopback, the bridge's gateway, the
 *   host's LAN and public addresses, every port) → refused. kiln's Redis,
 *   API, metrics and anything else on the host are out of reach whatever
 *   they listen on.
 * - forward, bridge to bridge (step to step; bridged frames reach this hook
 *   through br_netfilter) → refused.
 * - forward to the resolvers named for steps, port 53 only → allowed.
 * - forward to the operator's allowed ranges → allowed.
 * - forward to loopback, private, link-local (cloud metadata), shared,
 *   documentation, benchmarking, multicast and reserved ranges → refused.
 * - forward to any other IPv4 address (the public internet) → allowed and
 *   masqueraded; anything not IPv4 → refused.
 * - forward from elsewhere into the bridge → only replies.
 * Refusals are a TCP reset (else ICMP "administratively prohibited"), so
 * a client fails at once instead of waiting for a timeout. The chains run just before the
 * default filter priority; a drop in any other table still wins.
 */
import { createHash } from 'node:crypto';
import { NON_PUBLIC_IPV4_RANGES } from '../../net/non-public-ranges.js';

export interface StepNetworkRulesOptions {
  /** The Linux bridge of kiln's Docker network. */
  bridge: string;
  /** The nftables table (family `inet`) kiln owns. */
  table: string;
  /** The network's IPv4 subnet, masqueraded on its way out. */
  subnet: string;
  /** Non-public IPv4 ranges the operator lets steps reach. */
  allow: readonly string[];
  /** Resolvers steps may query (port 53) even at non-public addresses. */
  dns: readonly string[];
}

export interface StepNetworkRules {
  /** An `nft -f` script that replaces the table atomically. */
  script: string;
  /** Stored as the table's comment; compare with `readTableComment`. */
  comment: string;
}

/** Bumped when the shape of the rules changes, so old tables are replaced. */
const RULES_VERSION = 1;

export function renderStepNetworkRules(
  options: StepNetworkRulesOptions,
): StepNetworkRules {
  const { table } = options;
  const bridge = JSON.stringify(options.bridge);
  const refuse = 'goto refuse';
  const body = [
    `  set blocked { type ipv4_addr; flags interval; ${elements(NON_PUBLIC_IPV4_RANGES)}}`,
    `  set allowed { type ipv4_addr; flags interval; auto-merge; ${elements(options.allow)}}`,
    `  set dns { type ipv4_addr; ${elements([...new Set(options.dns)])}}`,
    // TCP gets a reset: ICMP errors are rate-limited by the kernel (about
    // one a second), which would turn a refusal into a slow timeout.
    '  chain refuse {',
    '    meta l4proto tcp reject with tcp reset',
    '    reject with icmpx admin-prohibited',
    '  }',
    '  chain input {',
    '    type filter hook input priority filter - 10; policy accept;',
    `    iifname ${bridge} ${refuse}`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter - 10; policy accept;',
    `    iifname ${bridge} oifname ${bridge} ${refuse}`,
    `    oifname ${bridge} ct state established,related accept`,
    `    oifname ${bridge} ${refuse}`,
    `    iifname ${bridge} meta nfproto != ipv4 ${refuse}`,
    `    iifname ${bridge} ip daddr @dns meta l4proto { tcp, udp } th dport 53 accept`,
    `    iifname ${bridge} ip daddr @allowed accept`,
    `    iifname ${bridge} ip daddr @blocked ${refuse}`,
    `    iifname ${bridge} accept`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${options.subnet} oifname != ${bridge} masquerade`,
    '  }',
  ].join('\n');
  const fingerprint = createHash('sha256')
    .update(`${RULES_VERSION}\n${body}`)
    .digest('hex')
    .slice(0, 16);
  const comment = `kiln step network ${options.bridge}, managed by kiln: ${fingerprint}`;
  // Declaring the table first makes the delete valid when it is absent; the
  // whole file is one transaction, so no packet ever sees a half table.
  const script = [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    `  comment ${JSON.stringify(comment)}`,
    body,
    '}',
    '',
  ].join('\n');
  return { script, comment };
}

/** The table's comment in `nft list table` output, or null. */
export function readTableComment(listing: string): string | null {
  const match = /^table inet \S+ \{\n\s*comment "([^"]*)"/m.exec(listing);
  return match?.[1] ?? null;
}

/** The nftables table of a step network, named after it. */
export function toTableName(network: string): string {
  return network.replace(/-/g, '_');
}

function elements(values: readonly string[]): string {
  return values.length === 0 ? '' : `elements = { ${values.join(', ')} }; `;
}
