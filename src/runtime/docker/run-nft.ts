/**
 * Runs `nft` (the nftables command) with an argument array and an optional
 * script on stdin; no shell. Resolves its stdout; rejects with a message
 * that says what the host lacks when it can't run.
 */
import { spawn } from 'node:child_process';

export interface RunNftOptions {
  /** @defaultValue 'nft' */
  command?: string;
  /** The script for `nft -f -`. */
  input?: string;
  /** @defaultValue 10000 */
  timeoutMs?: number;
}

export type RunNftResult =
  | { ok: true; stdout: string }
  | { ok: false; status: number | null; problem: string };

export async function runNft(
  args: readonly string[],
  options: RunNftOptions = {},
): Promise<RunNftResult> {
  const command = options.command ?? 'nft';
  const child = spawn(command, [...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 10_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout
    .setEncoding('utf8')
    .on('data', (text: string) => (stdout += text));
  child.stderr
    .setEncoding('utf8')
    .on('data', (text: string) => (stderr += text));
  // A write to a command that failed to start is reported by 'error' below.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  return new Promise((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      resolve({
        ok: false,
        status: null,
        problem:
          error.code === 'ENOENT'
            ? `${command} is not installed (Debian package nftables)`
            : `could not run ${command}: ${error.message}`,
      });
    });
    child.once('close', (status) => {
      if (status === 0) {
        resolve({ ok: true, stdout });
        return;
      }
      const said = stderr.trim().split('\n')[0] ?? '';
      resolve({
        ok: false,
        status,
        problem: /Operation not permitted/i.test(stderr)
          ? `${command} was refused (${said}): managing the firewall needs root (CAP_NET_ADMIN) in the host's network namespace`
          : `${command} ${args.join(' ')} failed${status === null ? ' (timed out)' : ''}: ${said || `exit ${status}`}`,
      });
    });
  });
}
