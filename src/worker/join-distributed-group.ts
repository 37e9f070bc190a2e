/**
 * A member of a `distributed` task joins its group before its container
 * starts: it announces where it runs, waits until every member of the
 * task has announced, and writes `/valohai/config/distributed.json` in
 * Valohai's format (what valohai-utils' `valohai.distributed` reads):
 * `config` (group name, this member's id, the member count), `members`
 * (every member's announce time, identity, job id, member id and network)
 * and `self`. Member ids are 0, 1, …; valohai-utils ranks them, rank 0
 * being the master.
 *
 * The addresses are those of the worker's host: members reach each other
 * when their steps may use the host's network (see docs/valohai-compatibility.md).
 * A group that does not form in time (too few workers free at once) fails
 * the member with a message saying so.
 */
import { writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../errors.js';
import type { RunStore } from '../store/index.js';

/** How long a member waits for the others. */
export const DISTRIBUTED_GROUP_TIMEOUT_MS = 10 * 60_000;

export class DistributedGroupError extends KilnError {
  readonly code = 'DISTRIBUTED_GROUP_INCOMPLETE';
}

export interface JoinDistributedGroupOptions {
  runId: string;
  task: string;
  /** 0-based. */
  memberId: string;
  /** Members in the group. */
  required: number;
  executionId: string;
  identity: string;
  configDir: string;
  signal: AbortSignal;
  /** @defaultValue DISTRIBUTED_GROUP_TIMEOUT_MS */
  timeoutMs?: number;
  pollMs?: number;
}

export async function joinDistributedGroup(
  runs: Pick<RunStore, 'announceMember' | 'listMembers'>,
  options: JoinDistributedGroupOptions,
): Promise<void> {
  const self = {
    announce_time: new Date().toISOString().slice(0, 19),
    identity: options.identity,
    job_id: options.executionId,
    member_id: options.memberId,
    network: {
      exposed_ports: {},
      local_ips: hostAddresses(),
      public_ips: [],
    },
  };
  await runs.announceMember(
    options.runId,
    options.task,
    options.memberId,
    self,
  );
  const ids = Array.from({ length: options.required }, (_, i) => String(i));
  const deadline =
    Date.now() + (options.timeoutMs ?? DISTRIBUTED_GROUP_TIMEOUT_MS);
  for (;;) {
    options.signal.throwIfAborted();
    const members = await runs.listMembers(options.runId, options.task, ids);
    const present = members.filter((member) => member !== null);
    if (present.length === options.required) {
      const document = {
        config: {
          group_name: `task-${options.runId}-${options.task}`,
          member_id: options.memberId,
          required_count: options.required,
        },
        members: present,
        self,
      };
      await writeFile(
        join(options.configDir, 'distributed.json'),
        `${JSON.stringify(document, null, 2)}\n`,
      );
      return;
    }
    if (Date.now() > deadline) {
      throw new DistributedGroupError(
        `only ${present.length} of the ${options.required} members of distributed task "${options.task}" started in time: the task needs ${options.required} worker slots free at once`,
      );
    }
    await new Promise((resolve) =>
      setTimeout(resolve, options.pollMs ?? 250).unref(),
    );
  }
}

/** The host's non-loopback addresses, IPv4 first. */
function hostAddresses(): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) {
      if (address.internal) continue;
      (address.family === 'IPv4' ? v4 : v6).push(address.address);
    }
  }
  return [...v4, ...v6];
}
