/**
 * The image reference grammar of distribution/reference
 * (`[registry[:port]/]path[:tag][@digest]`), checked before a reference
 * reaches the Engine API: a reference that starts with `-` or holds
 * whitespace (`"--privileged"`, `"alpine --net=host"`) is refused here, so
 * nothing shaped like a flag ever travels further.
 */
export interface ImageReference {
  /** Registry host (with port), `docker.io` when the reference names none. */
  registry: string;
  /** Repository path without the registry, e.g. `library/alpine`. */
  path: string;
  tag: string | null;
  digest: string | null;
}

export type ParseImageReferenceResult =
  { ok: true; reference: ImageReference } | { ok: false; problem: string };

const MAX_REFERENCE_LENGTH = 512;
const MAX_NAME_LENGTH = 255;
const DEFAULT_REGISTRY = 'docker.io';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]{1,5})?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST =
  /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Pure; never throws, bounded work on any input. */
export function parseImageReference(text: string): ParseImageReferenceResult {
  if (text.length === 0) return fail('it is empty');
  if (text.length > MAX_REFERENCE_LENGTH) {
    return fail(`it is longer than ${MAX_REFERENCE_LENGTH} characters`);
  }
  if (text.startsWith('-')) return fail('it starts with "-"');
  if (/[\s\p{Cc}]/u.test(text)) {
    return fail('it contains whitespace or control characters');
  }

  const at = text.indexOf('@');
  const withoutDigest = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? null : text.slice(at + 1);
  if (digest !== null && !DIGEST.test(digest)) {
    return fail(`"${digest}" is not a digest (algorithm:hex)`);
  }

  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  const tag = colon === -1 ? null : withoutDigest.slice(colon + 1);
  if (tag !== null && !TAG.test(tag)) {
    return fail(`"${tag}" is not a valid tag`);
  }
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    return fail(`the name must have 1 to ${MAX_NAME_LENGTH} characters`);
  }

  const parts = name.split('/');
  const first = parts[0] ?? '';
  const hasRegistry =
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry && !DOMAIN.test(first)) {
    return fail(`"${first}" is not a registry host`);
  }
  const pathParts = hasRegistry ? parts.slice(1) : parts;
  const badPart = pathParts.find((part) => !PATH_COMPONENT.test(part));
  if (badPart !== undefined) {
    return fail(
      `"${badPart}" is not a valid name component (lowercase letters, digits, ".", "_", "-")`,
    );
  }

  const registry = hasRegistry ? first : DEFAULT_REGISTRY;
  const path =
    !hasRegistry && pathParts.length === 1
      ? `library/${pathParts.join('/')}`
      : pathParts.join('/');
  return { ok: true, reference: { registry, path, tag, digest } };
}

function fail(problem: string): ParseImageReferenceResult {
  return { ok: false, problem };
}
