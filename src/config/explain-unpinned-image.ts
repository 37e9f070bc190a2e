/**
 * Whether an image reference names a moving target: no digest and the tag
 * `latest`, written or implied (`busybox`, `x:latest`). Such an image can
 * change between two runs of the same commit, so kiln warns about it (and
 * refuses it with KILN_STEP_IMAGES_PINNED). Any other tag (`python:3.9`) is
 * taken as the author's choice: tags can move too, but pinning them is the
 * usual Valohai practice and warning on all would bury the warning.
 */

/**
 * `"tag latest"` or `"no tag"` for an unpinned reference, undefined for one
 * with a digest or another tag. Pure; the reference is read as
 * `[registry[:port]/]path[:tag][@digest]` without further checks.
 */
export function explainUnpinnedImage(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon === -1) return 'no tag';
  return image.slice(colon + 1) === 'latest' ? 'tag latest' : undefined;
}
