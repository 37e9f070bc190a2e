/**
 * vitest globalSetup: names the directory of this test run's shared Ceph
 * radosgw and stops it after the last test file. The cluster itself is
 * started lazily by the first file that needs S3 (`startTestS3`), so a run
 * without S3 tests costs nothing. With KILN_TEST_CEPH_DIR set to a cluster
 * started by scripts/start-ceph-s3.sh, that one is used and left running.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kilnCephDir: string;
    kilnCephExternal: boolean;
  }
}

const STOP = resolve(import.meta.dirname, '../../scripts/stop-ceph-s3.sh');

export default function setup(project: TestProject): () => Promise<void> {
  const external = process.env.KILN_TEST_CEPH_DIR;
  const dir =
    external ??
    join(
      tmpdir(),
      `kiln-ceph-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
  project.provide('kilnCephDir', dir);
  project.provide('kilnCephExternal', external !== undefined);
  return async () => {
    if (external) return;
    if (existsSync(dir)) {
      execFileSync('bash', [STOP], {
        env: { ...process.env, CEPH_DIR: dir },
        stdio: 'ignore',
        timeout: 30_000,
      });
    }
    rmSync(`${dir}.lock`, { recursive: true, force: true });
    rmSync(`${dir}.log`, { force: true });
  };
}
