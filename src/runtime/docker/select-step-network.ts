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

export interface StepNetworkLease {
  network: ContainerNetwork;
  /** Call when the container is gone; idempotent. */
  release(): void;
}

export interface SelectedStepNetwork {
  /**
   * The network for one container, checked each time (fail-closed);
   * rejects with `NETWORK_UNAVAILABLE` when isolation can't be confirmed.
   * While any lease is held the rules are checked again every few seconds
   * and put back when gone (a firewall reload during a long step).
   */
  attach(): Promise<StepNetworkLease>;
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

export interface SelectStepNetworkOptions {
  /** @defaultValue DEFAULT_STEP_NETWORK */
  setting?: StepNetworkSetting;
  /** How often rules are checked while steps hold a lease. @defaultValue 5000 */
  recheckMs?: number;
  /** Told when such a check fails (the rules could not be put back). */
  onRecheckFailure?: (error: unknown) => void;
}

export function selectStepNetwork(
  docker: Dockerode,
  options: SelectStepNetworkOptions = {},
): SelectedStepNetwork {
  const setting = options.setting ?? DEFAULT_STEP_NETWORK;
  if (setting.mode === 'unsafe-host') {
    return {
      attach: async () => ({ network: { mode: 'host' }, release() {} }),
      check: async () => ({
        ok: true,
        notes: [
          "KILN_UNSAFE_STEP_HOST_NETWORK=true: steps with network: true share this host's network and can reach everything it does (Redis, the API, loopback services): run only code you trust",
        ],
      }),
    };
  }
  const network = new StepNetwork({ docker, ...setting });
  let held = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    async attach() {
      const ready = await network.ensure();
      held += 1;
      timer ??= setInterval(() => {
        network.ensure().catch((error: unknown) => {
          options.onRecheckFailure?.(error);
        });
      }, options.recheckMs ?? 5000).unref();
      let released = false;
      return {
        network: {
          mode: ready.networkMode,
          resolvConfPath: ready.resolvConfPath,
        },
        release() {
          if (released) return;
          released = true;
          held -= 1;
          if (held === 0) {
            clearInterval(timer);
            timer = undefined;
          }
        },
      };
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
