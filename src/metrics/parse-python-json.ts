/**
 * A tolerant JSON reader for metrics lines that `JSON.parse` rejects. It
 * accepts what Python's `json.dumps` writes (`NaN`, `Infinity`,
 * `-Infinity`) and reads only the first value on the line, ignoring what
 * follows (Valohai counts the first JSON object on a line). Objects are
 * null-prototype, duplicate keys keep the last value, nesting is bounded.
 */
import { KilnError } from '../errors.js';

export type PythonJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'invalid-json' | 'too-deep' };

/** Deeper nesting is refused: metrics use at most two levels anyway. */
export const MAX_JSON_DEPTH = 64;

class JsonSyntaxError extends KilnError {
  readonly code = 'JSON_SYNTAX';
  readonly reason: 'invalid-json' | 'too-deep';
  constructor(reason: 'invalid-json' | 'too-deep') {
    super(reason);
    this.reason = reason;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS: ReadonlyArray<readonly [string, unknown]> = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
];

export function parsePythonJson(text: string): PythonJsonResult {
  const state = { text, pos: 0 };
  try {
    skipSpace(state);
    return { ok: true, value: readValue(state, 0) };
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      return { ok: false, reason: error.reason };
    }
    throw error;
  }
}

interface State {
  text: string;
  pos: number;
}

function readValue(state: State, depth: number): unknown {
  const char = state.text[state.pos];
  if (char === '{') return readObject(state, depth + 1);
  if (char === '[') return readArray(state, depth + 1);
  if (char === '"') return readString(state);
  for (const [word, value] of LITERALS) {
    if (state.text.startsWith(word, state.pos)) {
      state.pos += word.length;
      return value;
    }
  }
  NUMBER.lastIndex = state.pos;
  const match = NUMBER.exec(state.text);
  if (!match) throw new JsonSyntaxError('invalid-json');
  state.pos += match[0].length;
  return Number(match[0]);
}

function readObject(state: State, depth: number): Record<string, unknown> {
  if (depth > MAX_JSON_DEPTH) throw new JsonSyntaxError('too-deep');
  const result = Object.create(null) as Record<string, unknown>;
  state.pos++;
  skipSpace(state);
  if (state.text[state.pos] === '}') {
    state.pos++;
    return result;
  }
  for (;;) {
    if (state.text[state.pos] !== '"')
      throw new JsonSyntaxError('invalid-json');
    const key = readString(state);
    skipSpace(state);
    expect(state, ':');
    skipSpace(state);
    result[key] = readValue(state, depth);
    skipSpace(state);
    if (state.text[state.pos] === ',') {
      state.pos++;
      skipSpace(state);
      continue;
    }
    expect(state, '}');
    return result;
  }
}

function readArray(state: State, depth: number): unknown[] {
  if (depth > MAX_JSON_DEPTH) throw new JsonSyntaxError('too-deep');
  const result: unknown[] = [];
  state.pos++;
  skipSpace(state);
  if (state.text[state.pos] === ']') {
    state.pos++;
    return result;
  }
  for (;;) {
    result.push(readValue(state, depth));
    skipSpace(state);
    if (state.text[state.pos] === ',') {
      state.pos++;
      skipSpace(state);
      continue;
    }
    expect(state, ']');
    return result;
  }
}

function readString(state: State): string {
  const { text } = state;
  const start = state.pos;
  let pos = start + 1;
  for (;;) {
    const code = text.charCodeAt(pos);
    if (Number.isNaN(code)) throw new JsonSyntaxError('invalid-json');
    if (code === 0x22) break;
    pos += code === 0x5c ? 2 : 1;
  }
  state.pos = pos + 1;
  try {
    // The token is plain JSON: let the engine decode escapes exactly.
    return JSON.parse(text.slice(start, pos + 1)) as string;
  } catch {
    throw new JsonSyntaxError('invalid-json');
  }
}

function skipSpace(state: State): void {
  const { text } = state;
  let pos = state.pos;
  for (;;) {
    const code = text.charCodeAt(pos);
    if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) break;
    pos++;
  }
  state.pos = pos;
}

function expect(state: State, char: string): void {
  if (state.text[state.pos] !== char) throw new JsonSyntaxError('invalid-json');
  state.pos++;
}
