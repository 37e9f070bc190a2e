/**
 * Splits the Engine API's multiplexed attach stream (8-byte header: stream
 * type, 3 zero bytes, big-endian payload length; then the payload) into
 * stdout and stderr chunks.
 *
 * Not `docker.modem.demuxStream`: that one holds each frame until it is
 * complete and copies the unread rest of its buffer after every frame, which
 * is quadratic when a step writes many tiny frames and would block the event
 * loop (and with it the queue's lock renewal). This one forwards payload
 * bytes as soon as they arrive, keeps at most the 8 header bytes, and never
 * copies a payload.
 */
export type DemuxedStream = 'stdout' | 'stderr';

export interface DockerDemuxer {
  /** Feeds the next raw chunk, in arrival order. */
  push(chunk: Buffer): void;
}

const HEADER_LENGTH = 8;
const STREAM_TYPES: Record<number, DemuxedStream | undefined> = {
  // Stdin (0) never carries data on an attach without stdin; treat it as
  // stdout rather than dropping bytes.
  0: 'stdout',
  1: 'stdout',
  2: 'stderr',
};

export function createDockerDemuxer(
  onChunk: (stream: DemuxedStream, chunk: Buffer) => void,
): DockerDemuxer {
  const header = Buffer.alloc(HEADER_LENGTH);
  let headerFill = 0;
  let current: DemuxedStream = 'stdout';
  let remaining = 0;
  // A stream without frame headers (a TTY container) passes through as
  // stdout from the first unexpected byte on.
  let raw = false;

  return {
    push(chunk) {
      if (raw) {
        if (chunk.length > 0) onChunk('stdout', chunk);
        return;
      }
      let offset = 0;
      while (offset < chunk.length) {
        if (remaining > 0) {
          const end = Math.min(chunk.length, offset + remaining);
          onChunk(current, chunk.subarray(offset, end));
          remaining -= end - offset;
          offset = end;
          continue;
        }
        const take = Math.min(
          HEADER_LENGTH - headerFill,
          chunk.length - offset,
        );
        chunk.copy(header, headerFill, offset, offset + take);
        headerFill += take;
        offset += take;
        if (headerFill < HEADER_LENGTH) return;
        headerFill = 0;
        const stream = STREAM_TYPES[header.readUInt8(0)];
        if (stream === undefined) {
          raw = true;
          onChunk('stdout', Buffer.from(header));
          if (offset < chunk.length) onChunk('stdout', chunk.subarray(offset));
          return;
        }
        current = stream;
        remaining = header.readUInt32BE(4);
      }
    },
  };
}
