/**
 * Stores what a step left in its outputs folder (Valohai: `/valohai/outputs`)
 * and reads output metadata from `<file>.metadata.json` sidecars and a root
 * `valohai.metadata.jsonl` (valohai-utils `output_properties`).
 *
 * The folder is written by untrusted code, so: the walk uses the directory
 * entry types (lstat semantics) and never follows a symlink, whether it
 * points outside (`/etc`, `/proc/self/environ`) or inside the folder — a
 * link is reported in `skipped`, the file it points to is stored only if it
 * is itself in the folder. Counts, depth and metadata sizes are bounded.
 * Call it after the step's container has stopped (nothing may change the
 * folder during the walk). Rejects with the store's `UNAVAILABLE` or
 * `NO_SPACE` error when the store can't be reached or is full: files
 * already stored stay as harmless content-addressed blobs, none is
 * reported as collected — an output is never dropped with only a note.
 * Outputs larger in all than `maxTotalBytes` are refused before anything
 * is stored (`OUTPUT_LIMIT`, the step's own failure).
 */
import { lstat, readdir } from 'node:fs/promises';
import { formatBytes } from './format-bytes.js';
import { join } from 'node:path';
import { ArtifactError } from './artifact-error.js';
import type { ArtifactStore } from './artifact-store.js';
import {
  readOutputMetadata,
  type OutputMetadata,
} from './read-output-metadata.js';

export interface CollectedOutput {
  /** POSIX path relative to the outputs folder. */
  path: string;
  size: number;
  sha256: string;
  tags: string[];
  alias?: string;
  properties?: Record<string, unknown>;
}

export interface CollectOutputsResult {
  files: CollectedOutput[];
  skipped: Array<{ path: string; reason: string }>;
}

export interface CollectOutputsLimits {
  /** @defaultValue 10000 */
  maxFiles?: number;
  /** Directory levels below the outputs folder. @defaultValue 32 */
  maxDepth?: number;
  /**
   * Bytes of all output files together (their sizes as the step sees
   * them); more is refused with `OUTPUT_LIMIT`. @defaultValue no limit
   */
  maxTotalBytes?: number;
  /** Stops between files (a cancelled step stores no more). */
  signal?: AbortSignal;
}

export const SIDECAR_SUFFIX = '.metadata.json';
export const METADATA_JSONL = 'valohai.metadata.jsonl';

// Control characters make paths unprintable in logs, comments and the UI.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export async function collectOutputs(
  outputsDir: string,
  store: ArtifactStore,
  limits: CollectOutputsLimits = {},
): Promise<CollectOutputsResult> {
  const maxFiles = limits.maxFiles ?? 10_000;
  const maxDepth = limits.maxDepth ?? 32;
  const skipped: CollectOutputsResult['skipped'] = [];
  const found: string[] = [];
  const sidecars: string[] = [];
  let hasJsonl = false;
  let full = false;

  const root = await lstat(outputsDir).catch(() => null);
  if (root === null) return { files: [], skipped };
  if (!root.isDirectory()) {
    skipped.push({
      path: '.',
      reason:
        'the outputs folder is not a directory (a symlink?); nothing collected',
    });
    return { files: [], skipped };
  }

  // Iterative walk: depth is bounded, and a deep tree cannot overflow the stack.
  const pending: Array<{ rel: string; depth: number }> = [
    { rel: '', depth: 0 },
  ];
  while (pending.length > 0 && !full) {
    const { rel, depth } = pending.pop()!;
    let entries;
    try {
      entries = await readdir(join(outputsDir, rel), { withFileTypes: true });
    } catch (error) {
      skipped.push({
        path: rel || '.',
        reason: `unreadable directory (${codeOf(error)})`,
      });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (CONTROL.test(entry.name)) {
        skipped.push({
          path: JSON.stringify(path),
          reason: 'name contains control characters',
        });
      } else if (entry.isSymbolicLink()) {
        skipped.push({
          path,
          reason: 'symbolic link (never followed; copy the file instead)',
        });
      } else if (entry.isDirectory()) {
        if (depth + 1 > maxDepth) {
          skipped.push({
            path,
            reason: `deeper than ${maxDepth} directory levels`,
          });
        } else {
          pending.push({ rel: path, depth: depth + 1 });
        }
      } else if (!entry.isFile()) {
        skipped.push({
          path,
          reason: 'not a regular file (device, FIFO or socket)',
        });
      } else if (path === METADATA_JSONL) {
        hasJsonl = true;
      } else if (path.endsWith(SIDECAR_SUFFIX)) {
        sidecars.push(path);
      } else if (found.length >= maxFiles) {
        skipped.push({
          path: rel || '.',
          reason: `more than ${maxFiles} output files; the rest were not collected`,
        });
        full = true;
        break;
      } else {
        found.push(path);
      }
    }
  }

  const metadata = await readOutputMetadata({
    outputsDir,
    sidecars,
    jsonl: hasJsonl ? METADATA_JSONL : undefined,
    skipped,
  });
  if (limits.maxTotalBytes !== undefined) {
    await checkTotalSize(outputsDir, found, limits.maxTotalBytes);
  }
  const files: CollectedOutput[] = [];
  for (const path of found.sort()) {
    limits.signal?.throwIfAborted();
    try {
      const { sha256, size } = await store.put(join(outputsDir, path));
      files.push(toOutput({ path, sha256, size }, metadata.get(path)));
    } catch (error) {
      // An unreachable store is the infrastructure's failure, not this
      // file's: the whole collection fails (and the step is retried), so no
      // execution ends "complete" with outputs missing.
      if (
        error instanceof ArtifactError &&
        (error.code === 'UNAVAILABLE' || error.code === 'NO_SPACE')
      ) {
        throw error;
      }
      skipped.push({
        path,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { files, skipped };
}

async function checkTotalSize(
  outputsDir: string,
  paths: string[],
  maxBytes: number,
): Promise<void> {
  let total = 0;
  for (const path of paths) {
    const info = await lstat(join(outputsDir, path)).catch(() => null);
    total += info?.size ?? 0;
  }
  if (total > maxBytes) {
    throw new ArtifactError(
      'OUTPUT_LIMIT',
      `the step's outputs are ${formatBytes(total)} in all, over the limit of ${formatBytes(maxBytes)} per execution (KILN_STEP_OUTPUT_LIMIT_BYTES); none was stored — write less to /valohai/outputs or ask the operator for a higher limit`,
    );
  }
}

function toOutput(
  file: { path: string; sha256: string; size: number },
  meta: OutputMetadata | undefined,
): CollectedOutput {
  const output: CollectedOutput = { ...file, tags: meta?.tags ?? [] };
  if (meta?.alias !== undefined) output.alias = meta.alias;
  if (meta?.properties !== undefined) output.properties = meta.properties;
  return output;
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return String((error as { code: unknown }).code);
  }
  return String(error);
}
