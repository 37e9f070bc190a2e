export type StoreErrorCode = 'NOT_FOUND' | 'INVALID_ARGUMENT';

/** A store call that can't be done as asked (not a Redis failure). */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
