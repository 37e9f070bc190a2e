/**
 * The /etc/resolv.conf kiln mounts into `network: true` steps (Docker's
 * embedded resolver needs iptables rules an engine run with
 * `--iptables=false` does not make): `<stateDir>/<network>/resolv.conf`.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Rewritten only when it changes: running steps keep their mount. */
export async function writeResolvConf(
  stateDir: string,
  name: string,
  dns: readonly string[],
): Promise<string> {
  const dir = join(stateDir, name);
  const path = join(dir, 'resolv.conf');
  const text = [
    `# Written by kiln for steps on its network "${name}".`,
    ...dns.map((address) => `nameserver ${address}`),
    '',
  ].join('\n');
  const current = await readFile(path, 'utf8').catch(() => null);
  if (current === text) return path;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temporary = `${path}.${process.pid}.tmp`;
  // Readable by the step's user, whoever it is.
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, path);
  return path;
}
