import { RuntimeError, type StepSpec } from '../runtime.js';
import {
  describeDockerError,
  getDockerStatusCode,
  isEngineUnreachableError,
} from './describe-docker-error.js';

/** Runs one Engine API call, turning its failure into a `RuntimeError`. */
export async function callEngine<T>(
  action: string,
  spec: Pick<StepSpec, 'executionId' | 'image'>,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const detail = describeDockerError(error);
    if (isEngineUnreachableError(error)) {
      throw new RuntimeError(
        'ENGINE_UNREACHABLE',
        `the Docker engine did not answer when asked to ${action} the container of execution ${spec.executionId}: ${detail} — check that dockerd is running and its socket is reachable`,
        { cause: error },
      );
    }
    if (getDockerStatusCode(error) === 404 && /image/i.test(detail)) {
      throw new RuntimeError(
        'IMAGE_UNAVAILABLE',
        `image ${JSON.stringify(spec.image)} is not on this Docker host: ${detail} — prepare the image before running`,
        { cause: error },
      );
    }
    throw new RuntimeError(
      'START_FAILED',
      `Docker could not ${action} the container of execution ${spec.executionId}: ${detail}`,
      { cause: error },
    );
  }
}
