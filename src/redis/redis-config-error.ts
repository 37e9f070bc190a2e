import { KilnError } from '../errors.js';
export type RedisConfigErrorCode =
  | 'EVICTION_POLICY'
  | 'UNREACHABLE'
  /** Steps could reach it and it answers without a password. */
  | 'UNPROTECTED';

/** Redis is unusable for kiln as configured or reached; the message says the fix. */
export class RedisConfigError extends KilnError {
  readonly code: RedisConfigErrorCode;
  constructor(
    code: RedisConfigErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
  }
}
