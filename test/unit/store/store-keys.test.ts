import { describe, expect, it } from 'vitest';
import {
  counterField,
  createStoreKeys,
} from '../../../src/store/store-keys.js';

describe('store keys', () => {
  it('puts every key under the prefix', () => {
    const keys = createStoreKeys('tenant-a');

    expect(keys.execution('e1')).toBe('tenant-a:store:exec:e1');
    expect(keys.runs).toBe('tenant-a:store:runs');
    expect(keys.reuse('anything')).toMatch(
      /^tenant-a:store:reuse:[0-9a-f]{64}$/,
    );
  });

  it('keeps user values from reaching into other keys', () => {
    const keys = createStoreKeys();

    const tricky = keys.activeRuns('a:b', 'c', 'd');
    const plain = keys.activeRuns('a', 'b:c', 'd');

    expect(tricky).not.toBe(plain);
    expect(keys.runsOfRepository('x:y')).toBe('kiln:store:runs-of-repo:x%3Ay');
  });

  it('makes counter fields unambiguous', () => {
    expect(counterField('a",1', 2)).not.toBe(counterField('a', 12));
    expect(JSON.parse(counterField('acme/a', 3))).toEqual(['acme/a', 3]);
  });
});
