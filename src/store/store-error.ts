import { KilnError } from '../errors.js';
export type StoreErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'SCHEMA_TOO_NEW'
  | 'MIGRATION_PENDING'
  | 'OLDER_KILN_RUNNING';

/** A store call that can't be done as asked (not a Redis failure). */
export class StoreError extends KilnError {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
