import { KilnError } from '../errors.js';
export type InputErrorCode =
  'UNSUPPORTED_URI' | 'DOWNLOAD_FAILED' | 'TOO_LARGE';

/** An input could not be fetched; `code` says why. Messages never hold credentials. */
export class InputError extends KilnError {
  readonly code: InputErrorCode;

  constructor(code: InputErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
