/**
 * JSON for values the store's Lua scripts read or re-encode. JSON.stringify
 * writes a lone UTF-16 surrogate as a `\udXXX` escape (paired ones stay
 * characters), and Lua's cjson refuses such escapes, so they become U+FFFD
 * here. An escape counts only after an even number of backslashes.
 */
const LONE_SURROGATE_ESCAPE =
  /(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}/g;

export function toStoredJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return 'null';
  return text.includes('\\ud') || text.includes('\\uD')
    ? text.replace(LONE_SURROGATE_ESCAPE, '$1\\ufffd')
    : text;
}
