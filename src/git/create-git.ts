import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';

export interface CreateGitOptions {
  /** Directory git runs in (must exist). */
  cwd: string;
  /** Extra `GIT_*` variables for this command; each is allow-listed. */
  env?: Record<string, string>;
  /** Whole-command limit; the child is killed when it passes. */
  timeoutMs?: number;
  /**
   * Allows `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n` (used only for the token
   * header). simple-git still checks each such entry against its block-list.
   */
  allowConfigEnv?: boolean;
}

const defaultTimeoutMs = 120_000;

// Fixed for every command: never prompt for credentials (a prompt would hang
// a worker), never run LFS downloads from a checkout, ignore replace refs, and
// read paths literally so a file named `:(glob)*` is just a name.
const hardenedEnv: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_LFS_SKIP_SMUDGE: '1',
  GIT_NO_REPLACE_OBJECTS: '1',
  GIT_LITERAL_PATHSPECS: '1',
  GCM_INTERACTIVE: 'never',
};

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // simple-git strips ambient GIT_* anyway; dropping them here keeps what
    // reaches git identical whatever the caller's environment held.
    if (value === undefined || /^git_/i.test(key)) continue;
    if (/^(ssh_askpass|editor|visual|pager|prefix)$/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/**
 * One simple-git instance per command: the abort signal, environment and
 * allow-list differ per call. simple-git's unsafe-option checks stay on;
 * only the config-from-environment category can be enabled, for the token.
 */
export function createGit(options: CreateGitOptions): SimpleGit {
  const extra = { ...hardenedEnv, ...options.env };
  const env = { ...inheritedEnv(), ...extra };
  const git = simpleGit({
    baseDir: options.cwd,
    abort: AbortSignal.timeout(options.timeoutMs ?? defaultTimeoutMs),
    allowEnvironment: Object.keys(extra),
    unsafe: { allowUnsafeConfigEnvCount: options.allowConfigEnv === true },
    maxConcurrentProcesses: 1,
    trimmed: false,
    // simple-git treats a non-zero exit without stderr as success (as with
    // `rev-parse --verify -q`); kiln treats every non-zero exit as failure.
    errors(error, result) {
      if (error !== undefined || result.exitCode === 0) return error;
      const stderr = Buffer.concat(result.stdErr).toString('utf8').trim();
      return new Error(
        `git exited with code ${result.exitCode}${stderr ? `: ${stderr}` : ''}`,
      );
    },
  });
  return git.env(env);
}
