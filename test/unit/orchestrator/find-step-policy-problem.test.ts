import { describe, expect, it } from 'vitest';
import { findStepPolicyProblem } from '../../../src/orchestrator/find-step-policy-problem.js';

const step = (image: string, devices?: Record<string, number>) => ({
  name: 'train',
  image,
  ...(devices ? { resources: { devices } } : {}),
});

describe('findStepPolicyProblem', () => {
  it('allows any image when the operator lists none', () => {
    expect(
      findStepPolicyProblem(
        step('localhost:5000/x'),
        { trusted: true },
        {
          devices: 'trusted',
        },
      ),
    ).toBeUndefined();
  });

  it.each([
    ['registry.example.com/team/model:1.2', true],
    ['python:3.11-slim', true],
    ['python:latest', false],
    ['localhost:5000/x', false],
    ['10.0.0.1:5000/x', false],
    ['registry.example.com.evil.io/x', false],
  ])('images listed as globs: %s allowed is %s', (image, allowed) => {
    const problem = findStepPolicyProblem(
      step(image),
      { trusted: true },
      {
        images: ['registry.example.com/**', 'python:3.11*'],
        devices: 'trusted',
      },
    );
    if (allowed) expect(problem).toBeUndefined();
    else expect(problem).toContain(`image "${image}" of step "train"`);
  });

  it.each([
    ['busybox', 'no tag'],
    ['x:latest', 'tag latest'],
    ['localhost:5000/x', 'no tag'],
  ])('refuses %s (%s) with pinned: true only', (image, why) => {
    const policy = { devices: 'trusted' as const };
    expect(
      findStepPolicyProblem(step(image), { trusted: true }, policy),
    ).toBeUndefined();
    expect(
      findStepPolicyProblem(
        step(image),
        { trusted: true },
        { ...policy, pinned: true },
      ),
    ).toBe(
      `image "${image}" of step "train" is not pinned (${why}) and this kiln runs only pinned images (KILN_STEP_IMAGES_PINNED): give it a tag other than latest (name:1.2) or a digest (name@sha256:…)`,
    );
  });

  it.each(['python:3.9', `busybox@sha256:${'0'.repeat(64)}`])(
    'runs %s with pinned: true',
    (image) => {
      expect(
        findStepPolicyProblem(
          step(image),
          { trusted: true },
          { devices: 'trusted', pinned: true },
        ),
      ).toBeUndefined();
    },
  );

  it('gives devices to trusted runs only by default', () => {
    const gpu = step('busybox', { 'nvidia.com/gpu': 1 });
    const policy = { devices: 'trusted' as const };
    expect(
      findStepPolicyProblem(gpu, { trusted: true }, policy),
    ).toBeUndefined();
    expect(findStepPolicyProblem(gpu, { trusted: false }, policy)).toContain(
      'KILN_STEP_DEVICES=trusted',
    );
    expect(findStepPolicyProblem(gpu, {}, policy)).toContain('nvidia.com/gpu');
  });

  it('gives devices to no run, or to every run, when the operator says so', () => {
    const gpu = step('busybox', { 'nvidia.com/gpu': 1 });
    expect(
      findStepPolicyProblem(gpu, { trusted: true }, { devices: 'none' }),
    ).toContain('KILN_STEP_DEVICES=none');
    expect(
      findStepPolicyProblem(gpu, { trusted: false }, { devices: 'all' }),
    ).toBeUndefined();
  });
});
