/**
 * Reads the fields kiln wants out of a JSON document in a byte buffer,
 * checking the whole document as `JSON.parse` would, without ever making a
 * string of the rest.
 *
 * Why hand-written: a webhook body is up to 25 MB, and `JSON.parse` needs
 * the body decoded to a string first, then makes a string of every value —
 * a 1 MB push costs 3 MB of heap garbage for the few hundred bytes kiln
 * keeps (trim-payload.ts), and in a burst that garbage set the server's
 * peak memory (L1: 300–350 MB peak with parsing, 190 MB without).
 * Streaming JSON libraries (stream-json, @streamparser/json) still
 * materialise every string they pass. Here a skipped value is only
 * scanned; a wanted one is cut out and given to `JSON.parse`, so its
 * decoding is exactly the built-in's.
 *
 * Pure: no I/O; time linear in the buffer; memory bounded by the values
 * kept (skipping nests with an explicit stack, not recursion).
 */
import { isUtf8 } from 'node:buffer';

/** `true`: keep the value as it is; a mapping: keep these keys of it. */
export type JsonFields = { readonly [key: string]: true | JsonFields };

export type ProjectedJson =
  { ok: true; value: unknown } | { ok: false; problem: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;

class NotJson extends Error {}

/**
 * The value of the document in `bytes` with, at each level `fields` names,
 * only those keys (a value that is not an object where `fields` expects one
 * is kept whole, as it is). `fields` undefined: the document is only
 * checked and `value` is `undefined`.
 */
export function projectJson(
  bytes: Uint8Array,
  fields?: JsonFields,
): ProjectedJson {
  if (!isUtf8(bytes))
    return { ok: false, problem: 'the body is not valid UTF-8' };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return {
      ok: false,
      problem: 'the body starts with a byte order mark; send plain JSON',
    };
  }
  const reader = new Reader(bytes);
  try {
    reader.skipSpace();
    const isObject = bytes[reader.at] === OPEN_OBJECT;
    // A top-level value that is not an object is refused: only checked.
    const value = fields && isObject ? reader.project(fields) : reader.skip();
    reader.skipSpace();
    if (reader.at !== bytes.length) throw new NotJson();
    if (!isObject)
      return { ok: false, problem: 'the body is not a JSON object' };
    return { ok: true, value };
  } catch (error) {
    if (!(error instanceof NotJson)) throw error;
    return { ok: false, problem: 'the body is not valid JSON' };
  }
}

class Reader {
  at = 0;
  private readonly decoder = new TextDecoder();
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  skipSpace(): void {
    const bytes = this.bytes;
    let at = this.at;
    for (;;) {
      const c = bytes[at];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at += 1;
      else break;
    }
    this.at = at;
  }

  /** An object's wanted keys; any other value is kept whole. */
  project(fields: JsonFields): unknown {
    if (this.bytes[this.at] !== OPEN_OBJECT) return this.capture();
    this.at += 1;
    const out: Record<string, unknown> = {};
    this.skipSpace();
    if (this.bytes[this.at] === CLOSE_OBJECT) {
      this.at += 1;
      return out;
    }
    for (;;) {
      this.skipSpace();
      const key = this.key(fields);
      this.skipSpace();
      this.expect(COLON);
      this.skipSpace();
      const wanted = key === undefined ? undefined : fields[key];
      if (key === undefined || wanted === undefined) this.skip();
      else out[key] = wanted === true ? this.capture() : this.project(wanted);
      this.skipSpace();
      const c = this.bytes[this.at];
      this.at += 1;
      if (c === CLOSE_OBJECT) return out;
      if (c !== COMMA) throw new NotJson();
    }
  }

  /** A key, decoded only when it can be one of `fields` (else `undefined`). */
  private key(fields: JsonFields): string | undefined {
    const start = this.at;
    if (this.bytes[start] !== QUOTE) throw new NotJson();
    this.skipString();
    // Wanted keys are short; a longer one is never decoded.
    if (this.at - start > 256) return undefined;
    const key = this.parse(start, this.at) as string;
    return Object.hasOwn(fields, key) ? key : undefined;
  }

  /** The next value, decoded by JSON.parse from its own bytes. */
  capture(): unknown {
    const start = this.at;
    this.skip();
    return this.parse(start, this.at);
  }

  private parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.decoder.decode(this.bytes.subarray(start, end)));
    } catch {
      // Checked already; only a nesting deeper than JSON.parse takes lands here.
      throw new NotJson();
    }
  }

  /** Steps over one value, checking it; nesting on a stack of closers. */
  skip(): undefined {
    const bytes = this.bytes;
    const closers: number[] = [];
    for (;;) {
      this.skipSpace();
      const c = bytes[this.at];
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.at += 1;
        this.skipSpace();
        const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
        if (bytes[this.at] === close) {
          this.at += 1;
        } else {
          closers.push(close);
          if (close === CLOSE_OBJECT) this.member();
          continue;
        }
      } else if (c === QUOTE) {
        this.skipString();
      } else if (c === MINUS || (c !== undefined && c >= 0x30 && c <= 0x39)) {
        this.skipNumber();
      } else {
        this.skipWord();
      }
      // After a value: close what ends here, or go on to the next member.
      for (;;) {
        const open = closers.at(-1);
        if (open === undefined) return undefined;
        this.skipSpace();
        const next = bytes[this.at];
        this.at += 1;
        if (next === open) {
          closers.pop();
          continue;
        }
        if (next !== COMMA) throw new NotJson();
        if (open === CLOSE_OBJECT) this.member();
        break;
      }
    }
  }

  /** `"key" :` of an object member, up to its value. */
  private member(): void {
    this.skipSpace();
    if (this.bytes[this.at] !== QUOTE) throw new NotJson();
    this.skipString();
    this.skipSpace();
    this.expect(COLON);
  }

  private expect(byte: number): void {
    if (this.bytes[this.at] !== byte) throw new NotJson();
    this.at += 1;
  }

  private skipString(): void {
    const bytes = this.bytes;
    let at = this.at + 1;
    for (;;) {
      const c = bytes[at];
      if (c === undefined || c < 0x20) throw new NotJson();
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const e = bytes[at + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k += 1)
            if (!isHex(bytes[at + k])) throw new NotJson();
          at += 6;
          continue;
        }
        // " \ / b f n r t
        if (
          e !== QUOTE &&
          e !== BACKSLASH &&
          e !== 0x2f &&
          e !== 0x62 &&
          e !== 0x66 &&
          e !== 0x6e &&
          e !== 0x72 &&
          e !== 0x74
        ) {
          throw new NotJson();
        }
        at += 2;
        continue;
      }
      at += 1;
    }
    this.at = at + 1;
  }

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private skipNumber(): void {
    const bytes = this.bytes;
    let at = this.at;
    if (bytes[at] === MINUS) at += 1;
    if (bytes[at] === 0x30) at += 1;
    else if (isDigit(bytes[at])) while (isDigit(bytes[at])) at += 1;
    else throw new NotJson();
    if (bytes[at] === 0x2e) {
      at += 1;
      if (!isDigit(bytes[at])) throw new NotJson();
      while (isDigit(bytes[at])) at += 1;
    }
    if (bytes[at] === 0x65 || bytes[at] === 0x45) {
      at += 1;
      if (bytes[at] === 0x2b || bytes[at] === MINUS) at += 1;
      if (!isDigit(bytes[at])) throw new NotJson();
      while (isDigit(bytes[at])) at += 1;
    }
    this.at = at;
  }

  private skipWord(): void {
    for (const word of WORDS) {
      if (word.every((byte, k) => this.bytes[this.at + k] === byte)) {
        this.at += word.length;
        return;
      }
    }
    throw new NotJson();
  }
}

const WORDS = ['true', 'false', 'null'].map((word) => [...Buffer.from(word)]);

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return (
    c !== undefined &&
    ((c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x46) ||
      (c >= 0x61 && c <= 0x66))
  );
}
