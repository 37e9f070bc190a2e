import { KilnError } from '../errors.js';
export type ArtifactErrorCode =
  'NOT_FOUND' | 'INVALID_DIGEST' | 'NOT_A_FILE' | 'IO_FAILED';

/** An artifact store operation failed; `code` says why. */
export class ArtifactError extends KilnError {
  readonly code: ArtifactErrorCode;

  constructor(
    code: ArtifactErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
  }
}
