/**
 * Kubernetes names for kiln's objects. Execution ids may hold characters a
 * Pod name or a label value refuses (upper case, `_`) and may be longer than
 * a label value (63): such values are mapped, and a hash of the exact id
 * keeps two ids from mapping to one name. The exact id always travels in an
 * annotation, which the reaper reads.
 */
import { createHash } from 'node:crypto';

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
// A Pod name is a DNS subdomain (253); kiln keeps well below so that the
// `-env` Secret and the kubelet's 63-character host name stay usable.
const MAX_SLUG = 40;

function shortHash(value: string, length: number): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/** The deterministic start of an attempt's Pod name (the runtime adds a suffix). */
export function toPodName(spec: {
  executionId: string;
  attempt: number;
}): string {
  const slug = spec.executionId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const exact = slug === spec.executionId && slug.length <= MAX_SLUG;
  const base = exact
    ? slug
    : `${slug.slice(0, MAX_SLUG).replace(/-+$/, '')}-${shortHash(spec.executionId, 8)}`;
  return `kiln-${base.replace(/^-/, '')}-${spec.attempt}`;
}

/** `value` when it is a valid label value, else a stable stand-in. */
export function toLabelValue(value: string): string {
  return LABEL_VALUE.test(value) ? value : `h-${shortHash(value, 20)}`;
}

/** Label keys Kubernetes accepts (optional DNS prefix, 63-char name). */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  const prefix = slash === -1 ? '' : key.slice(0, slash);
  return (
    /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(name) &&
    (slash === -1 ||
      (prefix.length <= 253 &&
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(
          prefix,
        )))
  );
}

export function isLabelValue(value: string): boolean {
  return LABEL_VALUE.test(value);
}
