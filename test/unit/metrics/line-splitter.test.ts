import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLineSplitter } from '../../../src/metrics/line-splitter.js';

interface Out {
  line: string;
  truncated: boolean;
  bytes: number;
}

function split(chunks: Buffer[], maxLineBytes = 1024): Out[] {
  const lines: Out[] = [];
  const splitter = createLineSplitter({
    maxLineBytes,
    onLine: (line, info) =>
      lines.push({ line, truncated: info.truncated, bytes: info.bytes }),
  });
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

/** Cuts `data` at the given offsets (sorted, deduplicated, in range). */
function cut(data: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (data.length + 1)))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, data.length]) {
    chunks.push(data.subarray(start, point));
    start = point;
  }
  return chunks;
}

describe('createLineSplitter', () => {
  it('splits LF and CRLF lines and keeps a last line without newline', () => {
    const data = Buffer.from('one\r\ntwo\n\nthree\r\nlast');

    const lines = split([data]).map((l) => l.line);

    expect(lines).toEqual(['one', 'two', '', 'three', 'last']);
  });

  it('keeps a lone carriage return inside a line', () => {
    const lines = split([Buffer.from('progress 1\rprogress 2\n')]);

    expect(lines.map((l) => l.line)).toEqual(['progress 1\rprogress 2']);
  });

  it('gives the same lines for every single cut point (CRLF, UTF-8)', () => {
    const data = Buffer.from('héllo\r\n€uro 😀\r\n\r\nplain\nend😀');
    const whole = split([data]);

    for (let i = 0; i <= data.length; i++) {
      expect(split([data.subarray(0, i), data.subarray(i)])).toEqual(whole);
    }
    expect(whole.map((l) => l.line)).toEqual([
      'héllo',
      '€uro 😀',
      '',
      'plain',
      'end😀',
    ]);
  });

  it('reports byte lengths of lines', () => {
    const lines = split([Buffer.from('abc\n€\n')]);

    expect(lines.map((l) => l.bytes)).toEqual([3, 3]);
  });

  it('truncates long lines without splitting a multi-byte character', () => {
    // 'a' (1 byte) + '€' (3 bytes) repeated: 6 bytes end inside a '€'.
    const data = Buffer.from('a€a€a€\nok\n');

    const lines = split([data], 6);

    expect(lines).toEqual([
      { line: 'a€a', truncated: true, bytes: 12 },
      { line: 'ok', truncated: false, bytes: 2 },
    ]);
  });

  it('does not count the CR of a CRLF against the line cap', () => {
    const lines = split([Buffer.from('abcd\r'), Buffer.from('\nx')], 4);

    expect(lines).toEqual([
      { line: 'abcd', truncated: false, bytes: 4 },
      { line: 'x', truncated: false, bytes: 1 },
    ]);
  });

  it('handles a 50 MB line without newline in 64 KiB chunks in bounded memory', () => {
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const total = 50 * 1024 * 1024;
    const lines: Out[] = [];
    const splitter = createLineSplitter({
      maxLineBytes: 64 * 1024,
      onLine: (line, info) =>
        lines.push({ line, truncated: info.truncated, bytes: info.bytes }),
    });
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;

    for (let sent = 0; sent < total; sent += chunk.length) {
      splitter.push(chunk);
      if (sent % (8 * 1024 * 1024) === 0) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      }
    }
    splitter.push(Buffer.from('\nnext\n'));
    splitter.end();

    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ truncated: true, bytes: total });
    expect(lines[0]?.line).toHaveLength(64 * 1024);
    expect(lines[1]).toEqual({ line: 'next', truncated: false, bytes: 4 });
    // Only the kept prefix is held: far below the 50 MB received.
    expect(peak).toBeLessThan(8 * 1024 * 1024);
  });

  it('is independent of how the stream is chunked (property)', () => {
    const pieces = fc.constantFrom(
      'a',
      'metric',
      '{"loss": 0.1}',
      '\n',
      '\r\n',
      '\r',
      'é',
      '€',
      '😀',
      '\u0000',
    );
    const bytes = fc.oneof(
      fc.array(pieces, { maxLength: 60 }).map((p) => Buffer.from(p.join(''))),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(
        bytes,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 40 }),
        (data, offsets, maxLineBytes) => {
          const whole = split([data], maxLineBytes);
          const chunked = split(cut(data, offsets), maxLineBytes);
          expect(chunked).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps valid UTF-8 lines within the cap, marking cut ones (property)', () => {
    const text = fc
      .array(fc.constantFrom('a', 'é', '€', '😀', '\n'), { maxLength: 80 })
      .map((p) => p.join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 4, max: 30 }), (value, max) => {
        const lines = split([Buffer.from(value)], max);

        const expected = value.split('\n');
        if (value.endsWith('\n') || value === '') expected.pop();
        expect(lines).toHaveLength(expected.length);
        lines.forEach((out, i) => {
          const original = expected[i] ?? '';
          expect(out.bytes).toBe(Buffer.byteLength(original));
          expect(out.truncated).toBe(out.bytes > max);
          expect(Buffer.byteLength(out.line)).toBeLessThanOrEqual(max);
          expect(original.startsWith(out.line)).toBe(true);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('emits one line per newline and nothing for an empty stream', () => {
    expect(split([])).toEqual([]);
    expect(split([Buffer.from('\n\n')]).map((l) => l.line)).toEqual(['', '']);
  });
});
