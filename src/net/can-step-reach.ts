/**
 * Whether a step with `network: true` could open a connection to an
 * address, by the rules of kiln's step network (docs/security.md): public
 * addresses and the operator's allowed ranges, never loopback or private
 * ones — unless the operator made steps share the host's network, when
 * everything the host reaches is reachable.
 *
 * Conservative on purpose: the host's own public addresses count as
 * reachable here although the step network refuses them too, and IPv6
 * follows the same rules although steps get no IPv6 route at all.
 */
import { isIP } from 'node:net';
import { isNonPublicAddress, toBlockList } from './non-public-ranges.js';

export interface StepReachPolicy {
  /** `KILN_UNSAFE_STEP_HOST_NETWORK`: steps share the host's network. */
  hostNetwork: boolean;
  /** `KILN_STEP_NETWORK_ALLOW`: non-public IPv4 ranges steps may reach. */
  allow: readonly string[];
}

export function canStepReach(
  address: string,
  policy: StepReachPolicy,
): boolean {
  if (policy.hostNetwork) return true;
  if (isIP(address) === 4 && toBlockList(policy.allow).check(address, 'ipv4')) {
    return true;
  }
  return !isNonPublicAddress(address);
}
