/**
 * Per-repository fairness for the intake worker: a repository takes at
 * most `perRepository` of this process's slots at once, so a busy or slow
 * repository (a burst of pushes, a git server that hangs until the stall
 * limit) can't fill every slot while other repositories' deliveries wait.
 * A delivery whose repository already has its share is put back for a
 * moment (the caller moves its job to delayed) rather than waiting in a
 * slot; BullMQ then hands out the jobs behind it. Per process: several
 * intake processes each keep their own count.
 */

export interface RepositoryTurns {
  /**
   * Takes a turn for `repository` (null: no repository, always granted);
   * false when it already holds its share here — the caller defers.
   */
  take(repository: string | null): boolean;
  /** Gives back a turn `take` granted. */
  give(repository: string | null): void;
}

export function createRepositoryTurns(perRepository: number): RepositoryTurns {
  const held = new Map<string, number>();
  return {
    take(repository) {
      if (repository === null) return true;
      const count = held.get(repository) ?? 0;
      if (count >= perRepository) return false;
      held.set(repository, count + 1);
      return true;
    },
    give(repository) {
      if (repository === null) return;
      const count = (held.get(repository) ?? 0) - 1;
      if (count > 0) held.set(repository, count);
      else held.delete(repository);
    },
  };
}

/**
 * The repository a queued delivery is about (`repository.full_name` of its
 * payload), compared case-insensitively as GitHub does; null when it has
 * none (installation events) or the payload is not what kiln queues.
 */
export function repositoryOfPayload(payload: string): string | null {
  try {
    const parsed = JSON.parse(payload) as {
      repository?: { full_name?: unknown };
    };
    const name = parsed?.repository?.full_name;
    return typeof name === 'string' && name !== '' ? name.toLowerCase() : null;
  } catch {
    return null;
  }
}
