/**
 * Real services for integration tests. Outside CI a missing service skips
 * the tests that need it (with a message saying how to get it); with CI=true
 * a missing service fails the run: CI never passes by skipping.
 */
import { execFileSync } from 'node:child_process';

export const inCi = process.env.CI === 'true';

export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', command], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

export function imageAvailable(image: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', image], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns true when the service is there. Otherwise throws under CI, and
 * returns false elsewhere so the caller can `describe.skipIf(!ok)`.
 */
export function requireService(
  name: string,
  ok: boolean,
  hint: string,
): boolean {
  if (ok) return true;
  const message = `${name} is not available: ${hint}`;
  if (inCi) throw new Error(`CI=true and ${message}`);
  console.warn(`skipping tests that need ${message}`);
  return false;
}

export const BUSYBOX_IMAGE = 'kiln-test/busybox:1';
export const PYTHON_IMAGE = 'kiln-test/python-sklearn:1';

export function haveDocker(): boolean {
  return requireService(
    'Docker',
    dockerAvailable(),
    'install docker.io and start dockerd (see .ci/run)',
  );
}

export function haveImage(image: string): boolean {
  return (
    haveDocker() &&
    requireService(
      `image ${image}`,
      imageAvailable(image),
      'run scripts/build-test-images.sh',
    )
  );
}

export function haveRedis(): boolean {
  return requireService(
    'redis-server',
    hasCommand('redis-server'),
    'apt-get install -y redis-server',
  );
}
