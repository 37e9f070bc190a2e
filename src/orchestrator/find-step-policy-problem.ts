/**
 * The operator's policy on what a repository's `kiln.yaml` may ask of a
 * worker: which images steps may run (KILN_STEP_IMAGES, and only pinned
 * ones with KILN_STEP_IMAGES_PINNED) and who may have
 * devices such as GPUs (KILN_STEP_DEVICES). Repository YAML can't widen it;
 * a step outside it ends in error before anything is pulled, saying which
 * setting refused it. Called by the worker for every attempt; pure.
 */
import type { Step } from '../config/config-model.js';
import { explainUnpinnedImage } from '../config/explain-unpinned-image.js';
import { matchGlob } from '../config/match-glob.js';

export interface StepPolicy {
  /**
   * Globs over the image reference as written in kiln.yaml (`*` within a
   * `/`-separated segment, `**` across: `registry.example.com/**`,
   * `python:3.11*`). Absent: any image.
   */
  images?: readonly string[];
  /**
   * `trusted`: devices for trusted runs only (never a fork's pull request);
   * `none`: for no run; `all`: for every run.
   */
  devices: 'trusted' | 'none' | 'all';
  /**
   * Refuse images without a digest whose tag is `latest` or missing
   * (explainUnpinnedImage). @defaultValue false
   */
  pinned?: boolean;
}

export function findStepPolicyProblem(
  step: Pick<Step, 'name' | 'image' | 'resources'>,
  run: { trusted?: boolean },
  policy: StepPolicy,
): string | undefined {
  if (
    policy.images !== undefined &&
    !policy.images.some((glob) => matchGlob(glob, step.image))
  ) {
    return `image "${step.image}" of step "${step.name}" is not allowed on this kiln (KILN_STEP_IMAGES: ${policy.images.join(', ')})`;
  }
  const unpinned = policy.pinned ? explainUnpinnedImage(step.image) : undefined;
  if (unpinned !== undefined) {
    return `image "${step.image}" of step "${step.name}" is not pinned (${unpinned}) and this kiln runs only pinned images (KILN_STEP_IMAGES_PINNED): give it a tag other than latest (name:1.2) or a digest (name@sha256:…)`;
  }
  const devices = Object.keys(step.resources?.devices ?? {});
  if (devices.length > 0) {
    const allowed =
      policy.devices === 'all' ||
      (policy.devices === 'trusted' && run.trusted === true);
    if (!allowed) {
      return `step "${step.name}" asks for ${devices.join(', ')}, which ${
        policy.devices === 'none'
          ? 'no run gets on this kiln (KILN_STEP_DEVICES=none)'
          : "only trusted runs get (KILN_STEP_DEVICES=trusted): this run is a fork's pull request or otherwise untrusted"
      }`;
    }
  }
  return undefined;
}
