/**
 * Keeps of a webhook payload only the fields kiln reads from it
 * (`toTriggerEvent`'s and `toRerunEvent`'s schemas), so what is queued and kept for the
 * redelivery window is a few hundred bytes, not the payload GitHub sent: a
 * 24 MB push cost 64.6 MB of Redis for 4 days. The fields are listed here
 * once per event; test/unit/forge/github/trim-payload.test.ts checks, on
 * every example payload GitHub documents, that the trimmed payload gives
 * the same trigger event as the whole one.
 */
import {
  projectJson,
  type JsonFields,
  type ProjectedJson,
} from './project-json.js';

type Fields = JsonFields;

const LOGIN: Fields = { login: true };
const REPOSITORY: Fields = { id: true, full_name: true, clone_url: true };

const FIELDS: Record<string, Fields> = {
  push: {
    ref: true,
    before: true,
    after: true,
    deleted: true,
    repository: { ...REPOSITORY, pushed_at: true, default_branch: true },
    head_commit: { id: true, timestamp: true },
    sender: LOGIN,
    installation: { id: true },
  },
  pull_request: {
    action: true,
    number: true,
    pull_request: {
      updated_at: true,
      user: LOGIN,
      head: { sha: true, ref: true, repo: REPOSITORY },
      base: { sha: true, ref: true, repo: REPOSITORY },
    },
    repository: REPOSITORY,
    sender: LOGIN,
    installation: { id: true },
  },
  // Re-run buttons (forge/github/to-rerun-event.ts).
  check_run: {
    action: true,
    check_run: { head_sha: true, external_id: true, name: true },
    repository: REPOSITORY,
    sender: LOGIN,
    installation: { id: true },
  },
  check_suite: {
    action: true,
    check_suite: { head_sha: true },
    repository: REPOSITORY,
    sender: LOGIN,
    installation: { id: true },
  },
  installation: {
    action: true,
    installation: { id: true, account: { login: true, slug: true } },
    sender: LOGIN,
  },
};

/** The payload of `event` with only the fields kiln reads (`{}` for events it ignores). */
export function trimPayload(event: string, payload: unknown): unknown {
  const fields = Object.hasOwn(FIELDS, event) ? FIELDS[event] : undefined;
  return fields ? pick(payload, fields) : {};
}

function pick(value: unknown, fields: Fields): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    // Not the shape kiln expects: kept, so the schema says what is wrong.
    return value;
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, wanted] of Object.entries(fields)) {
    if (!Object.hasOwn(source, key)) continue;
    out[key] = wanted === true ? source[key] : pick(source[key], wanted);
  }
  return out;
}

/**
 * `trimPayload` straight from the body's bytes: the same trimmed payload,
 * without decoding the body or the values kiln drops (project-json.ts says
 * why). The body is still checked whole: not UTF-8, not JSON or not an
 * object is `ok: false` with the problem.
 */
export function readTrimmedPayload(
  event: string,
  body: Uint8Array,
): ProjectedJson {
  const fields = Object.hasOwn(FIELDS, event) ? FIELDS[event] : undefined;
  const read = projectJson(body, fields);
  return read.ok && !fields ? { ok: true, value: {} } : read;
}
