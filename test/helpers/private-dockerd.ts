/**
 * A Docker engine of the test's own, for faults that must not touch the
 * shared one: a second `dockerd` (its own socket, data root and exec root)
 * on a `containerd` of its own that runs apart from it, as the packaged
 * engine does (Debian's docker.io runs containerd as its own service), so
 * containers outlive a dockerd that is killed. A test may kill dockerd
 * (-9), stop it gracefully (SIGTERM, which stops its containers as a
 * daemon shutdown does) and start it again. The busybox test image is
 * copied in from the shared engine. Needs root, like the shared engine;
 * with CI=true a missing capability is a failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUSYBOX_IMAGE, hasCommand, requireService } from './services.js';

export interface PrivateDockerd {
  socketPath: string;
  /** `DOCKER_HOST` for the docker CLI and kiln. */
  host: string;
  /** Ends the daemon: SIGKILL (containers live on) or SIGTERM (it stops them). */
  stop(options?: { hard?: boolean }): Promise<void>;
  /**
   * Starts it again on the same socket and data. With `liveRestore`,
   * containers that ran through a dockerd restart keep running (dockerd
   * `--live-restore`); without it (the default) dockerd stops them as it
   * comes back.
   */
  start(options?: { liveRestore?: boolean }): Promise<void>;
  /** Runs the docker CLI against this engine. */
  docker(...args: string[]): string;
  close(): Promise<void>;
}

export function havePrivateDockerd(): boolean {
  return requireService(
    'a private dockerd',
    process.getuid?.() === 0 && hasCommand('dockerd') && hasCommand('docker'),
    'run the tests as root on a machine with docker.io (they start an engine of their own)',
  );
}

export async function startPrivateDockerd(): Promise<PrivateDockerd> {
  // Short paths: the containerd socket under the exec root must fit in
  // sun_path (108 bytes).
  const dir = mkdtempSync(join(tmpdir(), 'kd-'));
  const socketPath = join(dir, 'docker.sock');
  const host = `unix://${socketPath}`;
  let child: ChildProcess | null = null;
  const containerdSocket = join(dir, 'c.sock');
  const containerd = spawn(
    'containerd',
    [
      '--address',
      containerdSocket,
      '--root',
      join(dir, 'c-root'),
      '--state',
      join(dir, 'c-state'),
    ],
    { stdio: ['ignore', openSync(join(dir, 'containerd.log'), 'a'), 'ignore'] },
  );
  const containerdExited = new Promise<void>((resolve) =>
    containerd.once('exit', () => resolve()),
  );

  const docker = (...args: string[]): string =>
    execFileSync('docker', args, {
      env: { ...process.env, DOCKER_HOST: host },
      encoding: 'utf8',
      timeout: 60_000,
    });

  async function start(options: { liveRestore?: boolean } = {}): Promise<void> {
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    child = spawn(
      'dockerd',
      [
        '--host',
        host,
        '--containerd',
        containerdSocket,
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'x'),
        '--pidfile',
        join(dir, 'docker.pid'),
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
        ...(options.liveRestore ? ['--live-restore'] : []),
      ],
      { stdio: ['ignore', log, log] },
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        docker('version', '--format', '{{.Server.Version}}');
        return;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `the private dockerd did not start (see ${join(dir, 'dockerd.log')}): ${String(error)}`,
          );
        }
        await sleep(250);
      }
    }
  }

  async function stop(options: { hard?: boolean } = {}): Promise<void> {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null)
      return;
    const exited = new Promise<void>((resolve) =>
      current.once('exit', () => resolve()),
    );
    current.kill(options.hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
    child = null;
    // A killed dockerd leaves its pid file, and refuses to start over it.
    rmSync(join(dir, 'docker.pid'), { force: true });
  }

  await start();
  execFileSync(
    'sh',
    [
      '-c',
      'docker save "$1" | DOCKER_HOST="$2" docker load -q',
      'sh',
      BUSYBOX_IMAGE,
      host,
    ],
    { stdio: 'ignore', timeout: 120_000 },
  );

  return {
    socketPath,
    host,
    stop,
    start,
    docker,
    async close() {
      if (!child) await start().catch(() => undefined);
      try {
        docker('rm', '-f', ...docker('ps', '-aq').split('\n').filter(Boolean));
      } catch {
        // Nothing to remove.
      }
      await stop();
      containerd.kill('SIGTERM');
      await containerdExited;
      try {
        execFileSync(
          'sh',
          [
            '-c',
            'grep -o " $1[^ ]*" /proc/mounts | xargs -r -n1 umount -l',
            'sh',
            dir,
          ],
          { stdio: 'ignore' },
        );
      } catch {
        // Nothing mounted.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
