/**
 * Picks the artifact store from the settings: a local directory under the
 * data dir (the default), or S3-compatible object storage when
 * `KILN_ARTIFACTS_URL=s3://bucket/prefix` is set (endpoint, region and
 * credentials from the AWS SDK's standard sources). The bucket is checked
 * once here, so a wrong name or key fails at start with a clear message
 * instead of at the first output.
 */
import { join } from 'node:path';
import type { Settings } from '../settings.js';
import { ArtifactError } from './artifact-error.js';
import type { ArtifactStore } from './artifact-store.js';
import { createS3Client, type KilnS3Client } from './create-s3-client.js';
import { describeS3Error } from './describe-s3-error.js';
import { FsArtifactStore } from './fs-artifact-store.js';
import { parseS3Url } from './parse-s3-url.js';

export async function createArtifactStore(
  settings: Pick<Settings, 'dataDir' | 'artifactsUrl'> &
    Partial<Pick<Settings, 'artifactsReserveBytes'>>,
  options: { client?: KilnS3Client } = {},
): Promise<ArtifactStore> {
  const location = settings.artifactsUrl
    ? parseS3Url(settings.artifactsUrl)
    : null;
  const reserveBytes = settings.artifactsReserveBytes;
  if (!location)
    return new FsArtifactStore(join(settings.dataDir, 'artifacts'), {
      reserveBytes,
    });
  // Imported here, not at the top: only an S3 store loads the AWS SDK.
  const [{ HeadBucketCommand }, { S3ArtifactStore }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('./s3-artifact-store.js'),
  ]);
  const s3 = options.client ?? (await createS3Client());
  try {
    await s3.client.send(new HeadBucketCommand({ Bucket: location.bucket }));
  } catch (error) {
    s3.client.destroy();
    throw new ArtifactError(
      'UNAVAILABLE',
      `KILN_ARTIFACTS_URL=${settings.artifactsUrl}: the bucket can't be used (${describeS3Error(error)}${s3.endpoint ? ` at ${s3.endpoint}` : ''}); check that it exists, that AWS_ENDPOINT_URL_S3/AWS_REGION point at its server and that the credentials may read and write it`,
      { cause: error },
    );
  }
  return new S3ArtifactStore({
    client: s3.client,
    bucket: location.bucket,
    prefix: location.key,
    cacheDir: join(settings.dataDir, 'artifacts-cache'),
    cacheReserveBytes: reserveBytes,
  });
}
