/**
 * How many request-body bytes the webhook route holds at once, counted
 * before a byte is read — the signature is only known once the whole body
 * is in, so without a budget 40 junk 24 MB posts at once took the server
 * from 130 MB to 720 MB. A body is admitted with its declared length (its
 * exact size: Node's parser reads no more), or the per-body cap when it
 * declares none; past the budget the route answers 503 at once. Bodies up
 * to `smallBytes` (nearly every real delivery) keep a share of the budget
 * that large ones can't take, so a flood of large posts does not turn away
 * ordinary pushes.
 *
 * Contract: `admit` returns a release (call it exactly once, when the body
 * is no longer held) or null when the budget is spent. Not shared between
 * processes: each bounds its own memory.
 */
export interface BodyBudget {
  admit(bytes: number): (() => void) | null;
  /** Bytes admitted and not released yet. */
  held(): number;
}

export interface BodyBudgetOptions {
  totalBytes: number;
  /** Bodies up to this size may use the share kept for them. @defaultValue 1 MiB */
  smallBytes?: number;
  /** Kept for small bodies. @defaultValue a sixth of `totalBytes` */
  smallShareBytes?: number;
}

export function createBodyBudget(options: BodyBudgetOptions): BodyBudget {
  const smallBytes = options.smallBytes ?? 1024 * 1024;
  const smallShare =
    options.smallShareBytes ?? Math.floor(options.totalBytes / 6);
  let held = 0;
  return {
    admit(bytes) {
      const limit =
        bytes <= smallBytes
          ? options.totalBytes
          : options.totalBytes - smallShare;
      if (held + bytes > limit) return null;
      held += bytes;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held -= bytes;
      };
    },
    held: () => held,
  };
}
