import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../../../src/git/keyed-lock.js';

describe('KeyedLock', () => {
  it('runs work for one key one at a time, in call order', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));

    const first = lock.runExclusive('a', async () => {
      events.push('first start');
      await gate;
      events.push('first end');
    });
    const second = lock.runExclusive('a', async () => {
      events.push('second');
    });
    const other = lock.runExclusive('b', async () => {
      events.push('other key');
    });
    await other;
    release();
    await Promise.all([first, second]);

    expect(events).toEqual(['first start', 'other key', 'first end', 'second']);
  });

  it('keeps going after a failure', async () => {
    const lock = new KeyedLock();

    const failed = lock.runExclusive('a', async () => {
      throw new Error('boom');
    });
    const next = lock.runExclusive('a', async () => 'ok');

    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
