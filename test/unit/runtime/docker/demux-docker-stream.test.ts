import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDockerDemuxer } from '../../../../src/runtime/docker/demux-docker-stream.js';
import type { DemuxedStream } from '../../../../src/runtime/docker/demux-docker-stream.js';

function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Cuts `data` at the given offsets (sorted, deduplicated, in range). */
function cut(data: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (data.length + 1)))].sort(
    (a, b) => a - b,
  );
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, data.length]) {
    pieces.push(data.subarray(start, point));
    start = point;
  }
  return pieces;
}

function demuxAll(pieces: Buffer[]) {
  const out: Record<DemuxedStream, Buffer[]> = { stdout: [], stderr: [] };
  const demuxer = createDockerDemuxer((stream, chunk) => {
    out[stream].push(Buffer.from(chunk));
  });
  for (const piece of pieces) demuxer.push(piece);
  return {
    stdout: Buffer.concat(out.stdout),
    stderr: Buffer.concat(out.stderr),
  };
}

describe('createDockerDemuxer', () => {
  it('separates stdout and stderr frames', () => {
    const data = Buffer.concat([
      frame(1, Buffer.from('out-1\n')),
      frame(2, Buffer.from('err-1\n')),
      frame(1, Buffer.from('out-2\n')),
    ]);

    const result = demuxAll([data]);

    expect(result.stdout.toString()).toBe('out-1\nout-2\n');
    expect(result.stderr.toString()).toBe('err-1\n');
  });

  it('gives the same bytes however the stream is cut', () => {
    const frames = fc.array(
      fc.record({
        type: fc.constantFrom(1, 2),
        payload: fc.uint8Array({ maxLength: 64 }),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(
        frames,
        fc.array(fc.nat(), { maxLength: 30 }),
        (list, offsets) => {
          const data = Buffer.concat(
            list.map((f) => frame(f.type, Buffer.from(f.payload))),
          );
          const expected = {
            stdout: Buffer.concat(
              list
                .filter((f) => f.type === 1)
                .map((f) => Buffer.from(f.payload)),
            ),
            stderr: Buffer.concat(
              list
                .filter((f) => f.type === 2)
                .map((f) => Buffer.from(f.payload)),
            ),
          };

          const result = demuxAll(cut(data, offsets));

          expect(result).toEqual(expected);
        },
      ),
    );
  });

  it('forwards a large frame before it is complete', () => {
    const payload = Buffer.alloc(1024 * 1024, 0x61);
    const data = frame(1, payload);
    const seen: number[] = [];
    const demuxer = createDockerDemuxer((_stream, chunk) => {
      seen.push(chunk.length);
    });

    demuxer.push(data.subarray(0, 8 + 1000));

    expect(seen).toEqual([1000]);
  });

  it('passes a stream without frame headers through as stdout', () => {
    const result = demuxAll([Buffer.from('plain tty output\n')]);

    expect(result.stdout.toString()).toBe('plain tty output\n');
    expect(result.stderr.length).toBe(0);
  });
});
