export type InputErrorCode =
  'UNSUPPORTED_URI' | 'DOWNLOAD_FAILED' | 'TOO_LARGE';

/** An input could not be fetched; `code` says why. Messages never hold credentials. */
export class InputError extends Error {
  readonly code: InputErrorCode;

  constructor(code: InputErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InputError';
    this.code = code;
  }
}
