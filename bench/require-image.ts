/**
 * Benchmarks run steps in the test images and would otherwise wait for a
 * pull that can't succeed (the images exist only where they were built):
 * a missing one stops the benchmark at once, saying how to get it.
 */
import Dockerode from 'dockerode';

export async function requireImage(
  image: string,
  docker: Dockerode = new Dockerode(),
): Promise<void> {
  try {
    await docker.getImage(image).inspect();
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== 404) throw error;
    throw new Error(
      `this benchmark needs the image ${image} on the Docker host: build it with scripts/build-test-images.sh`,
    );
  }
}
