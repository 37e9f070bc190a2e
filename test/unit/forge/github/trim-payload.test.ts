/**
 * What the intake queue keeps of a delivery (issue 11 item 6: a 24 MB push
 * cost 64.6 MB of Redis for 4 days): only the fields kiln reads. On every
 * example payload of every event GitHub documents, the trimmed payload
 * gives the same trigger event as the whole one.
 */
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { toTriggerEvent } from '../../../../src/forge/github/to-trigger-event.js';
import { trimPayload } from '../../../../src/forge/github/trim-payload.js';

const cases = (
  examples as unknown as Array<{ name: string; examples: unknown[] }>
).flatMap((group) =>
  group.examples.map((payload, index) => ({
    event: group.name,
    index,
    payload,
  })),
);

describe('trimPayload', () => {
  it.each(cases)(
    '$event example $index: the same trigger event from the trimmed payload',
    ({ event, payload }) => {
      const trimmed = trimPayload(event, payload);

      expect(toTriggerEvent(event, trimmed)).toEqual(
        toTriggerEvent(event, payload),
      );
    },
  );

  it('keeps a few hundred bytes of a push of 24 MB', () => {
    const push = cases.find((item) => item.event === 'push')?.payload as Record<
      string,
      unknown
    >;
    const huge = {
      ...push,
      commits: Array.from({ length: 20_000 }, (_, i) => ({
        id: String(i).padStart(40, '0'),
        message: 'x'.repeat(1_200),
      })),
    };
    expect(JSON.stringify(huge).length).toBeGreaterThan(24_000_000);

    const trimmed = JSON.stringify(trimPayload('push', huge));

    expect(trimmed.length).toBeLessThan(1_000);
  });

  it('keeps nothing of events kiln ignores, and never reads prototype keys', () => {
    expect(trimPayload('issues', { action: 'opened', issue: {} })).toEqual({});
    expect(trimPayload('__proto__', {})).toEqual({});
    expect(trimPayload('constructor', {})).toEqual({});
  });
});
