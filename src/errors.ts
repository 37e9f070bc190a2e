/**
 * The one base class of the errors kiln throws on purpose. Each carries a
 * literal `code` that callers match on (never the message, which may be
 * reworded) and a message that says how to fix the problem. Subclasses
 * narrow `code` to their own union.
 */
export abstract class KilnError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isKilnError(value: unknown): value is KilnError {
  return value instanceof KilnError;
}
