import { createGit } from './create-git.js';

export interface MergeBaseOptions {
  mirrorDir: string;
  /** Validated ids, both present in the mirror. */
  a: string;
  b: string;
  timeoutMs: number;
}

/** The best common ancestor of two commits; null when they share none. */
export async function mergeBaseOf(
  options: MergeBaseOptions,
): Promise<string | null> {
  try {
    const output = await createGit({
      cwd: options.mirrorDir,
      timeoutMs: options.timeoutMs,
    }).raw(['merge-base', options.a, options.b]);
    const sha = output.trim();
    return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha) ? sha : null;
  } catch {
    // git exits 1 without output when the histories are unrelated.
    return null;
  }
}
