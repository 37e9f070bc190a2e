import { describe, expect, it } from 'vitest';
import {
  fromFields,
  pairsToObject,
  toFieldChanges,
} from '../../../src/store/record-fields.js';

describe('record fields', () => {
  it('turns a patch into JSON fields to set and fields to remove', () => {
    const patch = { status: 'complete', endedAt: undefined, id: 'x', n: 0.1 };

    const changes = toFieldChanges(patch, new Set(['id']));

    expect(changes).toEqual({
      set: ['status', '"complete"', 'n', '0.1'],
      remove: ['endedAt'],
    });
  });

  it('round-trips values exactly, including empty arrays and floats', () => {
    const record = { inputs: [], metrics: { loss: 0.1 + 0.2 }, name: 'é ✓' };
    const { set } = toFieldChanges(record);

    const back = fromFields(pairsToObject(set));

    expect(back).toEqual(record);
  });

  it('drops damaged fields and __proto__ on read', () => {
    // JSON.parse makes `__proto__` an own field, as HGETALL data would.
    const hash = JSON.parse(
      '{"ok":"1","bad":"{not json","__proto__":"{\\"polluted\\":true}"}',
    ) as Record<string, string>;

    const record = fromFields(hash);

    expect(record).toEqual({ ok: 1 });
    expect(Object.keys(hash)).toContain('__proto__');
    expect((record as Record<string, unknown>).polluted).toBeUndefined();
  });
});
