/**
 * Splits a byte stream into text lines with a per-line byte cap.
 *
 * Why not `readline` or `split2`: both hold a whole line in memory however
 * long it gets, and split2 re-scans the growing tail on every chunk
 * (quadratic on one huge line, mcollina/split2#49). A step printing 10 GB
 * without a newline must cost O(n) time and at most `maxLineBytes` memory.
 */

/**
 * Details of one emitted line. The splitter reuses one object for every
 * line: read it inside `onLine`, never keep it.
 */
export interface LineInfo {
  /** The line was longer than `maxLineBytes`; only its start was kept. */
  truncated: boolean;
  /** Byte length of the whole line as received (without `\n` / `\r\n`). */
  bytes: number;
}

export interface LineSplitterOptions {
  /** Longest line kept, in bytes; longer lines are cut on a UTF-8 boundary. */
  maxLineBytes: number;
  /** Called synchronously, in order, once per line. */
  onLine(line: string, info: LineInfo): void;
}

export interface LineSplitter {
  /** Feeds the next chunk. The chunk is not kept after the call returns. */
  push(chunk: Buffer): void;
  /** Emits the last line if the stream did not end with a newline. */
  end(): void;
}

const LF = 0x0a;
const CR = 0x0d;

export function createLineSplitter(options: LineSplitterOptions): LineSplitter {
  const { onLine } = options;
  const maxLineBytes = Math.max(1, Math.floor(options.maxLineBytes));
  const info: LineInfo = { truncated: false, bytes: 0 };
  // The unfinished line: at most maxLineBytes + 1 bytes are kept (the spare
  // byte is a possible `\r` that the next chunk's `\n` turns into a CRLF).
  let carry: Buffer[] = [];
  let carryKept = 0;
  let carryTotal = 0;
  let carryLast = -1;

  function appendCarry(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    const room = maxLineBytes + 1 - carryKept;
    if (room > 0) {
      const take = Math.min(room, end - start);
      // Copy: the caller may reuse its chunk buffer after push() returns.
      carry.push(Buffer.from(chunk.subarray(start, start + take)));
      carryKept += take;
    }
    carryTotal += end - start;
    carryLast = chunk[end - 1] ?? -1;
  }

  function emitCarry(): void {
    const kept = carry.length === 1 ? carry[0]! : Buffer.concat(carry);
    const total = carryLast === CR ? carryTotal - 1 : carryTotal;
    carry = [];
    carryKept = 0;
    carryTotal = 0;
    carryLast = -1;
    emitBytes(kept, total);
  }

  /** Emits a line given its kept bytes and full length (without EOL). */
  function emitBytes(kept: Buffer, total: number): void {
    info.bytes = total;
    if (total <= maxLineBytes) {
      info.truncated = false;
      onLine(kept.toString('utf8', 0, total), info);
      return;
    }
    info.truncated = true;
    onLine(kept.toString('utf8', 0, utf8Boundary(kept, maxLineBytes)), info);
  }

  function push(chunk: Buffer): void {
    const length = chunk.length;
    if (length === 0) return;
    const first = chunk.indexOf(LF);
    if (first === -1) {
      appendCarry(chunk, 0, length);
      return;
    }
    if (carryTotal > 0) {
      appendCarry(chunk, 0, first);
      emitCarry();
    } else {
      emitRange(chunk, 0, first);
    }
    const start = first + 1;
    const last = chunk.lastIndexOf(LF);
    if (last >= start) emitRegion(chunk, start, last);
    appendCarry(chunk, Math.max(start, last + 1), length);
  }

  /** One line whose bytes are chunk[start, end) (end = index of `\n`). */
  function emitRange(chunk: Buffer, start: number, end: number): void {
    const stop = end > start && chunk[end - 1] === CR ? end - 1 : end;
    emitBytes(chunk.subarray(start, stop), stop - start);
  }

  /**
   * Several complete lines, chunk[start, end) with end at a `\n`. One decode
   * for the whole region is much cheaper than one per line, and safe: a
   * `\n` byte never occurs inside a multi-byte UTF-8 sequence.
   */
  function emitRegion(chunk: Buffer, start: number, end: number): void {
    const text = chunk.toString('utf8', start, end);
    // One UTF-16 unit per byte: text offsets are byte offsets. Otherwise
    // (non-ASCII output) split on bytes so sizes and cuts stay exact.
    if (text.length !== end - start) {
      emitRegionBytes(chunk, start, end);
      return;
    }
    let pos = 0;
    const textEnd = text.length;
    while (pos <= textEnd) {
      let next = text.indexOf('\n', pos);
      if (next === -1) next = textEnd;
      const stop =
        next > pos && text.charCodeAt(next - 1) === CR ? next - 1 : next;
      if (stop - pos <= maxLineBytes) {
        info.truncated = false;
        info.bytes = stop - pos;
        onLine(text.slice(pos, stop), info);
      } else {
        emitRange(chunk, start + pos, start + next);
      }
      pos = next + 1;
    }
  }

  function emitRegionBytes(chunk: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos <= end) {
      let next = chunk.indexOf(LF, pos);
      if (next === -1 || next > end) next = end;
      emitRange(chunk, pos, next);
      pos = next + 1;
    }
  }

  function end(): void {
    if (carryTotal > 0) emitCarry();
  }

  return { push, end };
}

/** Largest cut ≤ limit that does not split a UTF-8 sequence in `bytes`. */
function utf8Boundary(bytes: Buffer, limit: number): number {
  let cut = Math.min(limit, bytes.length);
  // Step back over continuation bytes (10xxxxxx) to the lead byte, then keep
  // the sequence only if it is complete before the cut.
  let back = cut;
  while (
    back > 0 &&
    back > cut - 4 &&
    ((bytes[back - 1] ?? 0) & 0xc0) === 0x80
  ) {
    back--;
  }
  if (back === 0) return cut;
  const lead = bytes[back - 1] ?? 0;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (cut - (back - 1) < need) cut = back - 1;
  return cut;
}
