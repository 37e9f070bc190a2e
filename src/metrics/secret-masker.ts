/**
 * Masks secret values in log text, the way the GitHub Actions runner does
 * (actions/runner `HostContext.cs`): each secret and its common encodings
 * (Base64 in all three byte alignments, JSON-escaped, URL-encoded). Masking
 * runs line by line, so a multi-line secret is also registered line by line
 * (Woodpecker `replace_secrets.go`), and so are the lines of its Base64 as
 * `base64` (76 columns) and `openssl base64` (64) wrap it. Terminal escape
 * codes (colours) inside a secret don't hide it either.
 */

/** Shorter secrets (and shorter encoded fragments) are not masked. */
export const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

/** Column widths at which Base64 tools wrap their output. */
const BASE64_WRAPS = [76, 64];
/** An ANSI escape sequence (CSI: colours, cursor moves). */
const ESCAPE = '(?:\\u001b\\[[0-9;?]*[A-Za-z])*';

/** Returns a function that replaces every registered value with `***`. */
export function createSecretMasker(
  secrets: readonly string[],
): (text: string) => string {
  const list = listSecretPatterns(secrets);
  if (list.length === 0) return (text) => text;
  const matcher = createPatternMatcher(list);
  // Built on first need: most output has no escape codes at all.
  let tolerant: RegExp | undefined;
  return (text) => {
    const masked = text.replace(matcher, MASK);
    if (!masked.includes('\u001b')) return masked;
    tolerant ??= new RegExp(
      list
        .map((pattern) => [...pattern].map(escapeRegExp).join(ESCAPE))
        .join('|'),
      'g',
    );
    return masked.replace(tolerant, MASK);
  };
}

/**
 * Every text masked for these secrets: each value, its lines and their
 * encodings, at least MIN_SECRET_LENGTH long, longest first (so a secret
 * wins over its own fragments in an alternation).
 */
export function listSecretPatterns(secrets: readonly string[]): string[] {
  const patterns = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string') continue;
    addWithEncodings(patterns, secret);
    for (const line of secret.split(/\r?\n/)) addWithEncodings(patterns, line);
    addWrappedBase64(patterns, secret);
  }
  const list = [...patterns].filter((p) => p.length >= MIN_SECRET_LENGTH);
  list.sort((a, b) => b.length - a.length);
  return list;
}

/** A global regular expression matching any of `patterns` literally. */
export function createPatternMatcher(patterns: readonly string[]): RegExp {
  return new RegExp(patterns.map(escapeRegExp).join('|'), 'g');
}

/**
 * The lines `echo "$SECRET" | base64` (or without the newline) prints: the
 * secret starts the encoded stream, so every wrapped line is known.
 */
function addWrappedBase64(patterns: Set<string>, secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH) return;
  for (const input of [secret, `${secret}\n`]) {
    const encoded = Buffer.from(input, 'utf8').toString('base64');
    for (const width of BASE64_WRAPS) {
      if (encoded.length <= width) continue;
      for (let start = 0; start < encoded.length; start += width) {
        const line = encoded.slice(start, start + width);
        // A short last line (`Cg==` is a lone newline) says too little.
        if (line.length >= 8) patterns.add(line);
      }
    }
  }
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
