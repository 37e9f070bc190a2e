/**
 * Masks secret values in log text, the way the GitHub Actions runner does
 * (actions/runner `HostContext.cs`): each secret and its common encodings
 * (Base64 in all three byte alignments, JSON-escaped, URL-encoded). Masking
 * runs line by line, so a multi-line secret is also registered line by line
 * (Woodpecker `replace_secrets.go`).
 */

/** Shorter secrets (and shorter encoded fragments) are not masked. */
export const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

/** Returns a function that replaces every registered value with `***`. */
export function createSecretMasker(
  secrets: readonly string[],
): (text: string) => string {
  const patterns = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string') continue;
    addWithEncodings(patterns, secret);
    for (const line of secret.split(/\r?\n/)) addWithEncodings(patterns, line);
  }
  const list = [...patterns].filter((p) => p.length >= MIN_SECRET_LENGTH);
  if (list.length === 0) return (text) => text;
  // Longest first, so a secret wins over its own fragments.
  list.sort((a, b) => b.length - a.length);
  const matcher = new RegExp(list.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(matcher, MASK);
}

function addWithEncodings(patterns: Set<string>, value: string): void {
  if (value.length < MIN_SECRET_LENGTH) return;
  patterns.add(value);
  patterns.add(JSON.stringify(value).slice(1, -1));
  const url = encodeURIComponent(value);
  patterns.add(url);
  patterns.add(url.replace(/%20/g, '+'));
  const bytes = Buffer.from(value, 'utf8');
  // A secret inside a larger Base64 text starts at byte offset 0, 1 or 2 of
  // a 3-byte group. Skipping 0, 1 or 2 of its bytes aligns what is left;
  // only the characters fully determined by the secret's bytes are kept.
  for (let skip = 0; skip < 3 && skip < bytes.length; skip++) {
    const rest = bytes.subarray(skip);
    const determined = Math.floor((rest.length * 4) / 3);
    patterns.add(rest.toString('base64').slice(0, determined));
  }
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
