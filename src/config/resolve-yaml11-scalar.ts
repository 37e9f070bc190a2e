/**
 * Types a YAML scalar the way PyYAML's SafeLoader does (YAML 1.1 implicit
 * resolvers, then the SafeConstructor). Valohai reads kiln.yaml with PyYAML,
 * so `1e-4` stays a string, `010` is 8 and `on` is true — on purpose.
 */
import { constructPyFloat, constructPyInt } from './construct-py-number.js';
import { constructPyTimestamp } from './construct-py-timestamp.js';
import type { PyTimestamp } from './py-scalars.js';
import { PyFloat } from './py-scalars.js';
import { formatFloat } from './python-str.js';

/** `implicit`: a plain, untagged scalar; the others: an explicit `!!tag`. */
export type ScalarTag = 'implicit' | 'str' | 'int' | 'float' | 'bool' | 'null';

export interface ResolvedScalar {
  /** The value as kiln keeps it (see py-scalars.ts). */
  value: unknown;
  /** What Python's `str()` prints: the text of a mapping key. */
  keyText: string;
  /**
   * Equal for values Python's dict treats as the same key (`1`, `1.0` and
   * `true` are one key in Python; `"1"` is another).
   */
  keyIdentity: string;
}

export type ScalarResolution =
  { ok: true; scalar: ResolvedScalar } | { ok: false; message: string };

// PyYAML's resolver.py regexes, in its order (bool, float, int, null,
// timestamp); each is only tried on its first characters, which the anchored
// patterns already imply.
const BOOL =
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

const BOOL_VALUES: Readonly<Record<string, boolean>> = {
  yes: true,
  no: false,
  true: true,
  false: false,
  on: true,
  off: false,
};

/** Types `text` (the scalar's value after YAML folding and escapes). */
export function resolveYaml11Scalar(
  text: string,
  tag: ScalarTag,
): ScalarResolution {
  switch (tag) {
    case 'str':
      return ok(toStr(text));
    case 'null':
      return ok(toNull());
    case 'bool':
      return readBool(text);
    case 'int':
      return readInt(text);
    case 'float':
      return readFloat(text);
    case 'implicit':
      return resolveImplicit(text);
  }
}

function resolveImplicit(text: string): ScalarResolution {
  if (BOOL.test(text)) return readBool(text);
  if (FLOAT.test(text)) return readFloat(text);
  if (INT.test(text)) return readInt(text);
  if (NULL.test(text)) return ok(toNull());
  if (TIMESTAMP.test(text)) {
    const stamp = constructPyTimestamp(text);
    if (typeof stamp === 'string') return { ok: false, message: stamp };
    return ok(toTimestamp(stamp));
  }
  return ok(toStr(text));
}

function readBool(text: string): ScalarResolution {
  const value = BOOL_VALUES[text.toLowerCase()];
  if (value === undefined) {
    return { ok: false, message: `"${text}" is not a YAML 1.1 boolean` };
  }
  return ok({
    value,
    keyText: value ? 'True' : 'False',
    keyIdentity: value ? 'n:1' : 'n:0',
  });
}

function readInt(text: string): ScalarResolution {
  const big = constructPyInt(text);
  if (big === undefined) {
    return { ok: false, message: `"${text}" is not an int` };
  }
  // Python ints have no size limit: one a JS number would round stays a
  // bigint, so `9007199254740993` keeps every digit (see py-scalars.ts).
  const small = Number(big);
  return ok({
    value: Number.isSafeInteger(small) ? small : big,
    keyText: big.toString(),
    keyIdentity: `n:${big.toString()}`,
  });
}

function readFloat(text: string): ScalarResolution {
  const value = constructPyFloat(text);
  if (value === undefined) {
    return { ok: false, message: `"${text}" is not a float` };
  }
  const identity = Number.isInteger(value)
    ? BigInt(value).toString()
    : String(value);
  return ok({
    value: new PyFloat(value),
    keyText: formatFloat(value),
    keyIdentity: `n:${identity}`,
  });
}

function toStr(text: string): ResolvedScalar {
  return { value: text, keyText: text, keyIdentity: `s:${text}` };
}

function toNull(): ResolvedScalar {
  return { value: null, keyText: 'None', keyIdentity: 'None' };
}

function toTimestamp(stamp: PyTimestamp): ResolvedScalar {
  return { value: stamp, keyText: stamp.text, keyIdentity: `t:${stamp.text}` };
}

function ok(scalar: ResolvedScalar): ScalarResolution {
  return { ok: true, scalar };
}
