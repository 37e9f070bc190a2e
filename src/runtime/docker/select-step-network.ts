/**
 * Which network a `network: true` step's container joins, from the
 * operator's setting: kiln's isolated step network (the default), or the
 * host's network namespace when the operator explicitly chose that unsafe
 * mode. There is no third way, and no fallback from the first to the
 * second.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { ContainerNetwork } from './build-container-options.js';
import { StepNetwork } from './step-network.js';

/**
 * `isolated`: kiln's own network, public addresses only (step-network.ts).
 * `unsafe-host`: the host's network namespace, where a step reaches
 * everything the host does, kiln's Redis and API included.
 */
export type StepNetworkSetting =
  | {
      mode: 'isolated';
      name: string;
      /** Non-public IPv4 ranges steps may reach anyway. */
      allow?: readonly string[];
      /** Resolvers for steps; default: the host's. */
      dns?: readonly string[];
      /** Where the steps' resolv.conf is kept; a path the engine can mount. */
      stateDir: string;
      /** @defaultValue 'nft' */
      nftCommand?: string;
    }
  | { mode: 'unsafe-host' };

export interface SelectedStepNetwork {
  /**
   * The network for one container, checked each time (fail-closed);
   * rejects with `NETWORK_UNAVAILABLE` when isolation can't be confirmed.
   */
  attach(): Promise<ContainerNetwork>;
  /**
   * Prepares the network and says how it stands, for start-up notes;
   * never throws. `ok: false`: `network: true` steps will fail, with the
   * same reason, until the host is fixed.
   */
  check(): Promise<{ ok: boolean; notes: string[] }>;
}

export const DEFAULT_STEP_NETWORK: StepNetworkSetting = {
  mode: 'isolated',
  name: 'kiln-steps',
  stateDir: join(tmpdir(), 'kiln-step-network'),
};

export function selectStepNetwork(
  docker: Dockerode,
  setting: StepNetworkSetting = DEFAULT_STEP_NETWORK,
): SelectedStepNetwork {
  if (setting.mode === 'unsafe-host') {
    return {
      attach: async () => ({ mode: 'host' }),
      check: async () => ({
        ok: true,
        notes: [
          "KILN_UNSAFE_STEP_HOST_NETWORK=true: steps with network: true share this host's network and can reach everything it does (Redis, the API, loopback services): run only code you trust",
        ],
      }),
    };
  }
  const network = new StepNetwork({ docker, ...setting });
  return {
    async attach() {
      const ready = await network.ensure();
      return { mode: ready.networkMode, resolvConfPath: ready.resolvConfPath };
    },
    async check() {
      try {
        const ready = await network.ensure();
        return {
          ok: true,
          notes: [
            `steps with network: true use kiln's network "${network.name}": public addresses only, nothing of this host or its private networks`,
            ...ready.warnings,
          ],
        };
      } catch (error) {
        return { ok: false, notes: [(error as Error).message] };
      }
    },
  };
}
