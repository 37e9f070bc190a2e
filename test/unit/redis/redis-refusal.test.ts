import { describe, expect, it } from 'vitest';
import { redisRefusalOf } from '../../../src/redis/redis-refusal.js';

describe('redisRefusalOf', () => {
  it('names the refusals Redis answers a write with, also inside a script error', () => {
    expect(
      redisRefusalOf(
        new Error("OOM command not allowed when used memory > 'maxmemory'."),
      )?.kind,
    ).toBe('out-of-memory');
    expect(
      redisRefusalOf(
        new Error(
          "ERR Error running script (call to f_1c2d): @user_script:12: OOM command not allowed when used memory > 'maxmemory'.",
        ),
      )?.kind,
    ).toBe('out-of-memory');
    expect(
      redisRefusalOf(
        new Error(
          'MISCONF Errors writing to the AOF file: No space left on device',
        ),
      )?.reason,
    ).toMatch(/free space on Redis's disk/);
    expect(
      redisRefusalOf(
        new Error("READONLY You can't write against a read only replica."),
      )?.kind,
    ).toBe('read-only');
  });

  it('leaves other errors alone', () => {
    expect(redisRefusalOf(new Error('Connection is closed.'))).toBeUndefined();
    expect(redisRefusalOf(new Error('ROOM 5 is booked'))).toBeUndefined();
    expect(redisRefusalOf('OOM command not allowed')).toBeUndefined();
  });
});
