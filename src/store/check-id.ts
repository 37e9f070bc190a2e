import { StoreError } from './store-error.js';

/** Record ids become parts of key names: bounded and non-empty. */
export function checkId(id: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
    const shown = JSON.stringify(String(id).slice(0, 40));
    throw new StoreError(
      'INVALID_ARGUMENT',
      `invalid record id ${shown}: ids must be 1 to 200 characters`,
    );
  }
}
