/**
 * Records the argv of every git process kiln starts, children included
 * (`git-remote-http`, `index-pack`…), to show that no token is ever on a
 * command line. A `git` wrapper first on PATH logs its arguments and runs
 * the real git with an exec path in which `git` and `git-remote-http(s)`
 * are logging wrappers too and everything else links to the real helpers.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export interface GitArgvRecorder {
  /** Every recorded command line, one per git process. */
  lines(): string[];
  /** Puts the wrapper first on PATH; returns the function that undoes it. */
  install(): () => void;
}

export function createGitArgvRecorder(dir: string): GitArgvRecorder {
  const realGit = execFileSync('sh', ['-c', 'command -v git'], {
    encoding: 'utf8',
  }).trim();
  const execPath = execFileSync('git', ['--exec-path'], {
    encoding: 'utf8',
  }).trim();
  const bin = join(dir, 'bin');
  const shadow = join(dir, 'exec-path');
  const log = join(dir, 'argv.log');
  mkdirSync(bin, { recursive: true });
  mkdirSync(shadow, { recursive: true });
  writeFileSync(log, '');
  // Each line: the program, then each argument in single quotes.
  const record = `{ printf '%s' "$(basename "$0")"; for a in "$@"; do printf " '%s'" "$a"; done; printf '\\n'; } >> '${log}'`;
  const wrapper = (target: string) =>
    `#!/bin/sh\n${record}\nGIT_EXEC_PATH='${shadow}' exec '${target}' "$@"\n`;
  for (const name of readdirSync(execPath)) {
    if (name === 'git' || name.startsWith('git-remote-http')) continue;
    symlinkSync(join(execPath, name), join(shadow, name));
  }
  const scripts: Array<[string, string]> = [
    [join(bin, 'git'), realGit],
    [join(shadow, 'git'), realGit],
    [join(shadow, 'git-remote-http'), join(execPath, 'git-remote-http')],
    [join(shadow, 'git-remote-https'), join(execPath, 'git-remote-https')],
  ];
  for (const [path, target] of scripts) {
    writeFileSync(path, wrapper(target));
    chmodSync(path, 0o755);
  }
  return {
    lines: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    install() {
      const previous = process.env.PATH;
      process.env.PATH = `${bin}:${previous ?? ''}`;
      return () => {
        process.env.PATH = previous;
      };
    },
  };
}
