/**
 * API tokens: created by an operator (`kiln token create`), shown once,
 * stored only as their SHA-256 in Redis with a name, a role and the time
 * they were made. The server checks a presented token by hashing it.
 *
 * Contract: every method is atomic on its own and safe to call from many
 * processes. `createToken` fails on a name in use (revoke it first);
 * `revokeToken` is idempotent (false when there was nothing to revoke).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../redis/redis-keys.js';
import { KilnError } from '../../errors.js';

export const TOKEN_ROLES = ['viewer', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export interface TokenRecord {
  name: string;
  role: TokenRole;
  createdAt: string;
}

export type TokenErrorCode = 'NAME_TAKEN' | 'INVALID_NAME' | 'INVALID_ROLE';

export class TokenError extends KilnError {
  readonly code: TokenErrorCode;
  constructor(code: TokenErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface TokenStore {
  createToken(options: {
    name: string;
    role: TokenRole;
  }): Promise<{ token: string; record: TokenRecord }>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(name: string): Promise<boolean>;
  /** The token's record, or null for an unknown or malformed token. */
  verifyToken(token: string): Promise<TokenRecord | null>;
}

const tokenName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Longer input is never a kiln token: refuse before hashing.
const maxTokenLength = 200;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isTokenRole(value: unknown): value is TokenRole {
  return TOKEN_ROLES.includes(value as TokenRole);
}

export function createTokenStore(
  redis: Redis,
  options: { keys: RedisKeys; now?: () => Date },
): TokenStore {
  const byName = options.keys.apiTokens;
  const byHash = options.keys.apiTokenHashes;
  const now = () => options.now?.() ?? new Date();

  return {
    async createToken({ name, role }) {
      if (!tokenName.test(name)) {
        throw new TokenError(
          'INVALID_NAME',
          'token name must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
        );
      }
      if (!isTokenRole(role)) {
        throw new TokenError('INVALID_ROLE', 'role must be admin or viewer');
      }
      const token = `kiln_${randomBytes(32).toString('base64url')}`;
      const hash = hashToken(token);
      const record: TokenRecord = {
        name,
        role,
        createdAt: now().toISOString(),
      };
      const stored = { ...record, hash };
      const created = await redis.eval(
        `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
         redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
         return 1`,
        2,
        byName,
        byHash,
        name,
        JSON.stringify(stored),
        hash,
      );
      if (Number(created) !== 1) {
        throw new TokenError(
          'NAME_TAKEN',
          `a token named "${name}" exists: revoke it first (kiln token revoke ${name}) or pick another name`,
        );
      }
      return { token, record };
    },
    async listTokens() {
      const all = await redis.hgetall(byName);
      return Object.values(all)
        .map(parseRecord)
        .filter((record) => record !== null)
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    async revokeToken(name) {
      const removed = await redis.eval(
        `local text = redis.call('HGET', KEYS[1], ARGV[1])
         if not text then return 0 end
         local ok, value = pcall(cjson.decode, text)
         if ok and type(value) == 'table' and value.hash then
           redis.call('HDEL', KEYS[2], value.hash)
         end
         redis.call('HDEL', KEYS[1], ARGV[1])
         return 1`,
        2,
        byName,
        byHash,
        name,
      );
      return Number(removed) === 1;
    },
    async verifyToken(token) {
      if (typeof token !== 'string' || token.length > maxTokenLength) {
        return null;
      }
      if (!token.startsWith('kiln_')) return null;
      const name = await redis.hget(byHash, hashToken(token));
      if (name === null) return null;
      const record = parseRecord((await redis.hget(byName, name)) ?? '');
      // The name may have been revoked and reused: the hash must match too.
      return record && record.hash === hashToken(token)
        ? { name: record.name, role: record.role, createdAt: record.createdAt }
        : null;
    },
  };
}

function parseRecord(text: string): (TokenRecord & { hash: string }) | null {
  try {
    const value = JSON.parse(text) as Partial<TokenRecord & { hash: string }>;
    if (
      typeof value.name !== 'string' ||
      !isTokenRole(value.role) ||
      typeof value.hash !== 'string'
    ) {
      return null;
    }
    return {
      name: value.name,
      role: value.role,
      createdAt: String(value.createdAt ?? ''),
      hash: value.hash,
    };
  } catch {
    return null;
  }
}
