import { KilnError } from '../errors.js';
export type PrivateRedisErrorCode =
  'REDIS_NOT_INSTALLED' | 'START_FAILED' | 'UNRESPONSIVE' | 'LOCK_TIMEOUT';

/** The private redis-server could not be found or started. */
export class PrivateRedisError extends KilnError {
  readonly code: PrivateRedisErrorCode;
  constructor(
    code: PrivateRedisErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
  }
}
