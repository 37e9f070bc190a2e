import type {
  PathSegment,
  PositionIndex,
  SourcePosition,
} from './yaml-document.js';

/**
 * A `PositionIndex` being filled while a document is read. The reader calls
 * `setValue`/`setKey` as it builds each value (a later call for the same path
 * wins, like the later of two duplicate keys); checks then only read `index`.
 */
export interface PositionRecorder {
  index: PositionIndex;
  setValue(path: readonly PathSegment[], position: SourcePosition): void;
  setKey(path: readonly PathSegment[], position: SourcePosition): void;
}

const START: SourcePosition = { line: 1, column: 1 };

export function createPositionIndex(): PositionRecorder {
  const values = new Map<string, SourcePosition>();
  const keys = new Map<string, SourcePosition>();

  function valueAt(path: readonly PathSegment[]): SourcePosition {
    // Walk up to the nearest ancestor the document has, so a finding about
    // a missing key points at the mapping that lacks it.
    for (let length = path.length; length >= 0; length -= 1) {
      const found = values.get(toKey(path, length));
      if (found) return found;
    }
    return START;
  }

  return {
    index: {
      valueAt,
      keyAt(path) {
        return keys.get(toKey(path, path.length)) ?? valueAt(path);
      },
    },
    setValue(path, position) {
      values.set(toKey(path, path.length), position);
    },
    setKey(path, position) {
      keys.set(toKey(path, path.length), position);
    },
  };
}

/**
 * Length-prefixed segments: unambiguous for any key text, NUL and dots
 * included. Indexes and keys share the spelling, which is safe because one
 * path step is either into a list or into a mapping, never both.
 */
function toKey(path: readonly PathSegment[], length: number): string {
  let key = '';
  for (let i = 0; i < length; i += 1) {
    const segment = String(path[i]);
    key += `${segment.length}:${segment}`;
  }
  return key;
}
