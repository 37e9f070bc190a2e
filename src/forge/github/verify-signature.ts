/**
 * Checks GitHub's `X-Hub-Signature-256` over the exact request bytes. The
 * header's shape is checked before any comparison so a junk value (wrong
 * length, not hex, `sha1=`, a duplicated header) is a plain "no", never a
 * `RangeError` from `timingSafeEqual`; the length of a valid signature is
 * public, so refusing other lengths early leaks nothing.
 *
 * Written here rather than taken from @octokit/webhooks: its middleware
 * reads the whole body with no byte cap or deadline before verifying (kiln's
 * route refuses an oversized or trickled body before reading it,
 * read-raw-body.ts), and its `verify`/`verifyWithFallback` take a decoded
 * string, stop at the first secret that matches and do not say which one
 * did (kiln compares every secret and reports current or previous, for
 * rotations). The HMAC itself is the same: tests check this function
 * against @octokit/webhooks-methods on GitHub's example payloads.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck =
  | {
      ok: true;
      /** Which secret matched (rotation). */ secret: 'current' | 'previous';
    }
  | { ok: false; reason: string };

export interface VerifySignatureOptions {
  /** The raw body as received, before any decoding or JSON parsing. */
  body: Buffer;
  /** The header value as Node gives it (duplicates arrive joined or as a list). */
  header: string | string[] | undefined;
  /** The current secret, then the previous one during a rotation. */
  secrets: readonly string[];
}

const signatureShape = /^sha256=[0-9a-f]{64}$/;

export function verifySignature(
  options: VerifySignatureOptions,
): SignatureCheck {
  const { header, body, secrets } = options;
  if (header === undefined || header === '') {
    return {
      ok: false,
      reason:
        'missing X-Hub-Signature-256 header: set a secret on the GitHub webhook (the same as KILN_WEBHOOK_SECRET)',
    };
  }
  if (typeof header !== 'string' || !signatureShape.test(header)) {
    return {
      ok: false,
      reason:
        'X-Hub-Signature-256 is not of the form sha256=<64 lowercase hex digits>',
    };
  }
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  // Every secret is compared (no early exit), so timing does not tell which
  // secret was close.
  let matched: 'current' | 'previous' | undefined;
  secrets.forEach((secret, index) => {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (timingSafeEqual(expected, given) && matched === undefined) {
      matched = index === 0 ? 'current' : 'previous';
    }
  });
  if (matched) return { ok: true, secret: matched };
  return {
    ok: false,
    reason:
      'signature does not match: the webhook secret on GitHub differs from KILN_WEBHOOK_SECRET',
  };
}
