/**
 * What every container runtime refuses in a step spec before it asks its
 * engine for anything: an id that can't name a container or Pod, a relative
 * working directory or mount, an environment variable name the engine
 * can't carry (each runtime says which: `envName`), a NUL in a value,
 * limits the engine would refuse with a less helpful message.
 */
import type { StepSpec } from './runtime.js';

const EXECUTION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function findStepSpecProblem(
  spec: StepSpec,
  envName: { pattern: RegExp; rule: string },
): string | null {
  if (!EXECUTION_ID.test(spec.executionId)) {
    return `execution id "${spec.executionId}" cannot name a container (letters, digits, "_", ".", "-"; at most 128)`;
  }
  if (!Number.isSafeInteger(spec.attempt) || spec.attempt < 0) {
    return `attempt ${spec.attempt} is not a non-negative integer`;
  }
  if (!spec.workdir.startsWith('/')) {
    return `working directory "${spec.workdir}" must be an absolute path`;
  }
  for (const [name, value] of Object.entries(spec.env)) {
    if (!envName.pattern.test(name)) {
      return `environment variable name "${name}" is not valid (${envName.rule})`;
    }
    if (value.includes('\0')) {
      return `environment variable ${name} contains a NUL byte`;
    }
  }
  const seen = new Set<string>();
  for (const mount of spec.mounts) {
    if (
      !mount.hostPath.startsWith('/') ||
      !mount.containerPath.startsWith('/')
    ) {
      return `mount ${mount.hostPath} → ${mount.containerPath} must use absolute paths`;
    }
    if (seen.has(mount.containerPath)) {
      return `two mounts at ${mount.containerPath}`;
    }
    seen.add(mount.containerPath);
  }
  const { cpus, memoryBytes, pidsLimit } = spec.resources;
  if (cpus !== undefined && !(Number.isFinite(cpus) && cpus > 0)) {
    return `cpus ${cpus} must be a positive number`;
  }
  if (
    memoryBytes !== undefined &&
    !(Number.isSafeInteger(memoryBytes) && memoryBytes >= 6 * 1024 * 1024)
  ) {
    // Engines refuse limits under 6 MB; say so before they do.
    return `memory limit ${memoryBytes} must be a whole number of bytes, at least 6 MB`;
  }
  if (
    pidsLimit !== undefined &&
    !(Number.isSafeInteger(pidsLimit) && pidsLimit > 0)
  ) {
    return `pids limit ${pidsLimit} must be a positive integer`;
  }
  return null;
}
