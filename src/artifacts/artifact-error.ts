import { KilnError } from '../errors.js';
export type ArtifactErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_DIGEST'
  | 'NOT_A_FILE'
  | 'IO_FAILED'
  /** The bytes read back do not hash to the blob's name: refused. */
  | 'CORRUPT'
  /**
   * The store could not be reached or refused the operation, after
   * retries: an infrastructure failure (the step is retried), never the
   * step's fault.
   */
  | 'UNAVAILABLE'
  /**
   * The store's disk is full (or would eat into the space kept free): an
   * infrastructure failure like `UNAVAILABLE`; nothing was stored.
   */
  | 'NO_SPACE'
  /**
   * A step's outputs are larger in all than the per-execution limit: the
   * step's own failure (it wrote too much); nothing was stored.
   */
  | 'OUTPUT_LIMIT';

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
