/**
 * Runs async work one at a time per key, in call order. In-process only: a
 * materialiser owns its cache directory, so no file lock is needed.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async runExclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      // Drop the entry once nobody queued behind us, so keys do not pile up.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
