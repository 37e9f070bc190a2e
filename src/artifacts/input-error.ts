import { KilnError } from '../errors.js';
export type InputErrorCode =
  | 'UNSUPPORTED_URI'
  | 'DOWNLOAD_FAILED'
  | 'TOO_LARGE'
  /** A loopback, link-local or private address, or a host not allowed. */
  | 'FORBIDDEN_ADDRESS'
  /** A glob matched nothing, or two files would get the same name. */
  | 'NO_MATCH'
  /** The bytes did not match the checksum the source promised. */
  | 'CORRUPT';

/** An input could not be fetched; `code` says why. Messages never hold credentials. */
export class InputError extends KilnError {
  readonly code: InputErrorCode;

  constructor(code: InputErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
