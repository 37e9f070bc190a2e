import * as crypto from 'node:crypto';
import examples from '@octokit/webhooks-examples' with { type: 'json' };
import { sign, verify } from '@octokit/webhooks-methods';
import { describe, expect, it, vi } from 'vitest';
import { verifySignature } from '../../../../src/forge/github/verify-signature.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const vectorSecret = "It's a Secret to Everybody";
const vectorPayload = 'Hello, World!';
const vectorSignature =
  'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

function check(header: string | string[] | undefined, body: Buffer) {
  return verifySignature({ body, header, secrets: [vectorSecret] });
}

describe('verifySignature', () => {
  it("accepts GitHub's documented test vector", () => {
    expect(check(vectorSignature, Buffer.from(vectorPayload))).toEqual({
      ok: true,
      secret: 'current',
    });
  });

  it('agrees with @octokit/webhooks-methods sign', async () => {
    const body = '{"zen":"Design for failure."}';
    const header = await sign('s3cret', body);
    const result = verifySignature({
      body: Buffer.from(body),
      header,
      secrets: ['s3cret'],
    });
    expect(result.ok).toBe(true);
  });

  it('compares with timingSafeEqual, and a wrong signature of the right length fails', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    const wrong = `sha256=${'0'.repeat(64)}`;
    const result = check(wrong, Buffer.from(vectorPayload));
    expect(result.ok).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['wrong length', 'sha256=757107ea'],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['sha1 prefix', 'sha1=0123456789abcdef0123456789abcdef01234567'],
    [
      'upper-case hex',
      vectorSignature.toUpperCase().replace('SHA256', 'sha256'),
    ],
    ['empty', ''],
    ['duplicated header (joined)', `${vectorSignature}, ${vectorSignature}`],
    ['duplicated header (list)', [vectorSignature, vectorSignature]],
    ['missing', undefined],
  ])('refuses a %s signature without throwing', (_name, header) => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    let result: ReturnType<typeof check> | undefined;
    expect(() => {
      result = check(header, Buffer.from(vectorPayload));
    }).not.toThrow();
    expect(result?.ok).toBe(false);
    // Junk never reaches the comparison (which throws on unequal lengths).
    expect(spy).not.toHaveBeenCalled();
  });

  it('checks the exact bytes: a re-serialised body fails', async () => {
    const raw = '{"a": 1,  "b": [1, 2]}';
    const header = await sign(vectorSecret, raw);
    expect(check(header, Buffer.from(raw)).ok).toBe(true);
    const reserialised = JSON.stringify(JSON.parse(raw));
    expect(check(header, Buffer.from(reserialised)).ok).toBe(false);
  });

  it('verifies bytes that are not valid UTF-8', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const header = `sha256=${crypto.createHmac('sha256', vectorSecret).update(body).digest('hex')}`;
    expect(check(header, body).ok).toBe(true);
    // Decoding then re-encoding (what a string-based verifier does) changes them.
    expect(check(header, Buffer.from(body.toString('utf8'))).ok).toBe(false);
  });

  it('agrees with @octokit/webhooks-methods on every example payload, both ways', async () => {
    const payloads = (
      examples as unknown as Array<{ examples: unknown[] }>
    ).flatMap((item) =>
      item.examples.slice(0, 2).map((x) => JSON.stringify(x)),
    );
    expect(payloads.length).toBeGreaterThan(100);

    for (const text of payloads) {
      const ours = `sha256=${crypto.createHmac('sha256', 's').update(Buffer.from(text)).digest('hex')}`;
      expect(await verify('s', text, ours)).toBe(true);
      expect(check(await sign(vectorSecret, text), Buffer.from(text)).ok).toBe(
        true,
      );
    }
  });

  it('accepts the previous secret during a rotation, and not once it is removed', async () => {
    const body = '{"zen":"rotate"}';
    const header = await sign('old-secret', body);
    expect(
      verifySignature({
        body: Buffer.from(body),
        header,
        secrets: ['new-secret', 'old-secret'],
      }),
    ).toEqual({ ok: true, secret: 'previous' });
    expect(
      verifySignature({
        body: Buffer.from(body),
        header,
        secrets: ['new-secret'],
      }).ok,
    ).toBe(false);
  });
});
