/**
 * Image pulls against a registry in trouble (reliability plan F17): the
 * real engine pulls from a registry on loopback that answers its first
 * manifest requests 503. A pull is tried 3 times (as GitHub's runner
 * does), so a registry's bad moment does not fail the step; a registry
 * that stays down fails it saying so after 3 tries; an image that does
 * not exist is not tried again.
 */
import { execFileSync } from 'node:child_process';
import Dockerode from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { RuntimeError } from '../../../src/runtime/runtime.js';
import {
  serveSlowRegistry,
  type SlowRegistry,
} from '../../helpers/serve-slow-registry.js';
import {
  BUSYBOX_IMAGE,
  haveDocker,
  haveImage,
} from '../../helpers/services.js';

const ok = haveDocker() && haveImage(BUSYBOX_IMAGE);

describe.skipIf(!ok)('pulling from a registry that fails', () => {
  const runtime = new DockerRuntime({
    docker: new Dockerode(),
    workerId: 'pull-retry',
    pullRetryDelayMs: () => 50,
  });
  let registry: SlowRegistry | undefined;
  afterEach(async () => {
    if (registry) {
      execFileSync('docker', ['rmi', '-f', registry.image], {
        stdio: 'ignore',
      });
      await registry.close();
    }
    registry = undefined;
  });

  async function serve(failManifests: number): Promise<SlowRegistry> {
    registry = await serveSlowRegistry({
      from: BUSYBOX_IMAGE,
      name: 'kiln-test/pull-retry',
      tag: '1',
      failManifests,
      hold: false,
    });
    return registry;
  }

  it('gets the image when the registry fails the first two tries', async () => {
    const served = await serve(2);

    const prepared = await runtime.prepareImage(served.image);

    expect(prepared.image).toBe(served.image);
    expect(prepared.digest).toMatch(/sha256:/);
    expect(served.manifestRequests()).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('fails after 3 tries, saying so, when the registry stays down', async () => {
    const served = await serve(1_000);

    const attempt = runtime.prepareImage(served.image);

    await expect(attempt).rejects.toMatchObject({
      code: 'IMAGE_UNAVAILABLE',
      message: expect.stringMatching(
        /pulling it failed \(3 tries\): .*(503|unavailable)/i,
      ),
    });
  }, 120_000);

  it('does not try again for a tag that does not exist', async () => {
    const served = await serve(0);
    const missing = served.image.replace(/:1$/, ':no-such-tag');

    const error = (await runtime
      .prepareImage(missing)
      .catch((failure: unknown) => failure)) as RuntimeError;

    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.code).toBe('IMAGE_UNAVAILABLE');
    expect(error.message).toMatch(/pulling it failed: .*not found/i);
    const afterOne = served.manifestRequests();
    expect(afterOne).toBeGreaterThan(0);
    // A second pull of the same missing tag costs as many requests: the
    // first was one try, not three.
    await expect(runtime.prepareImage(missing)).rejects.toThrow();
    expect(served.manifestRequests()).toBe(afterOne * 2);
  }, 120_000);
});
