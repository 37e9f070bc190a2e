/**
 * Per-repository secrets, set by the operator (`kiln secret set`, the API)
 * and given to trusted runs as environment variables. Values live in one
 * Redis hash per repository and are never logged; protect Redis (private
 * network, password) as you would the secrets themselves.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/redis-keys.js';
import { KilnError } from '../errors.js';
import { MIN_SECRET_LENGTH } from '../metrics/secret-masker.js';

/** Names that would change how the step's process or kiln itself behaves. */
const BLOCKED = new Set([
  'PATH',
  'HOME',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'NODE_OPTIONS',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONUNBUFFERED',
  'DOCKER_HOST',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'GIT_SSH_COMMAND',
  'BASH_ENV',
  'ENV',
  'SHELL',
  'IFS',
]);

export class SecretNameError extends KilnError {
  readonly code = 'INVALID_SECRET_NAME';
  constructor(name: string, why: string) {
    super(`secret name "${name}" ${why}`);
  }
}

export class SecretValueError extends KilnError {
  readonly code = 'INVALID_SECRET_VALUE';
  constructor(name: string, why: string) {
    super(`the value of secret "${name}" ${why}`);
  }
}

/**
 * Refuses values the step log can't mask: shorter ones are left as they
 * are by the masker (too many false hits), so they would show in clear.
 */
export function checkSecretValue(name: string, value: string): void {
  const length = value.trim().length;
  if (length === 0) throw new SecretValueError(name, 'is empty');
  if (length < MIN_SECRET_LENGTH) {
    throw new SecretValueError(
      name,
      `is ${length} character${length === 1 ? '' : 's'} long: values under ${MIN_SECRET_LENGTH} can't be masked in step logs; use a longer one`,
    );
  }
}

export function checkSecretName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
    throw new SecretNameError(
      name,
      'must be letters, digits and _ (not starting with a digit), at most 128 characters',
    );
  }
  const upper = name.toUpperCase();
  if (
    BLOCKED.has(upper) ||
    upper.startsWith('VH_') ||
    upper.startsWith('KILN_')
  ) {
    throw new SecretNameError(
      name,
      'is reserved: it would change how steps or kiln run; pick another name',
    );
  }
}

export interface SecretStore {
  set(repository: string, name: string, value: string): Promise<void>;
  delete(repository: string, name: string): Promise<boolean>;
  names(repository: string): Promise<string[]>;
  /** Name → value, for a trusted run's environment. */
  values(repository: string): Promise<Record<string, string>>;
}

export function createSecretStore(redis: Redis, keys: RedisKeys): SecretStore {
  const key = (repository: string) => keys.secrets(repository);
  return {
    async set(repository, name, value) {
      checkSecretName(name);
      checkSecretValue(name, value);
      await redis.hset(key(repository), name, value);
    },
    async delete(repository, name) {
      return (await redis.hdel(key(repository), name)) > 0;
    },
    async names(repository) {
      return (await redis.hkeys(key(repository))).sort();
    },
    async values(repository) {
      const values: Record<string, string> = Object.create(null);
      const all = await redis.hgetall(key(repository));
      for (const [name, value] of Object.entries(all)) values[name] = value;
      return values;
    },
  };
}
