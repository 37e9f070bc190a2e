/**
 * An `S3Client` configured the AWS SDK's standard way, plus what kiln needs
 * against any S3-compatible server:
 *
 * - endpoint, region and credentials come from the SDK's own sources
 *   (`AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`, `AWS_REGION`,
 *   `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE` and
 *   `~/.aws/config`/`credentials`, web identity, container and instance
 *   roles) unless given explicitly (a repository's own keys);
 * - path-style requests whenever an endpoint is set: self-hosted servers
 *   (Ceph radosgw, MinIO) rarely have a wildcard DNS name per bucket;
 * - checksums only where S3 requires them (`WHEN_REQUIRED`): the SDK's
 *   default trailing CRC checksums make streamed uploads fail on servers
 *   without them (radosgw answers 411). kiln checks SHA-256 itself, and
 *   SigV4 signs each part's SHA-256, which the server verifies;
 * - no region configured falls back to us-east-1 and region redirects are
 *   followed, so a bucket in another AWS region still works;
 * - bounded connect and idle timeouts, so a server that stops answering
 *   fails a request instead of hanging it.
 */
// Types only here: the SDK (hundreds of modules) is imported when a client
// is made, so a kiln that never touches S3 never loads it.
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

export interface CreateS3ClientOptions {
  /** Overrides the configured endpoint (a repository's `AWS_ENDPOINT_URL_S3`). */
  endpoint?: string;
  /** Overrides the configured region. */
  region?: string;
  /**
   * `default`: the SDK's credential chain; `anonymous`: unsigned requests
   * (public objects only, and no credential is ever looked up); or keys.
   * @defaultValue 'default'
   */
  credentials?:
    | 'default'
    | 'anonymous'
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, the SDK's retry. @defaultValue 3 */
  maxAttempts?: number;
  /** @defaultValue 10000 */
  connectionTimeoutMs?: number;
  /** A socket idle this long fails the request. @defaultValue 120000 */
  requestTimeoutMs?: number;
}

export interface KilnS3Client {
  client: S3Client;
  /** The endpoint in use when one is configured (self-hosted servers). */
  endpoint?: string;
  region: string;
}

export async function createS3Client(
  options: CreateS3ClientOptions = {},
): Promise<KilnS3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  quietNodeVersionNotice();
  let endpoint = options.endpoint;
  let region = options.region;
  if (endpoint === undefined || region === undefined) {
    // A throw-away client reads the SDK's configured endpoint and region
    // (environment, then the shared config file's profile).
    const probe = new S3Client({}) as S3Client & {
      config: { serviceConfiguredEndpoint?: () => Promise<string | undefined> };
    };
    endpoint ??= await probe.config.serviceConfiguredEndpoint?.();
    region ??= await probe.config.region().catch(() => undefined);
    probe.destroy();
  }
  region ??= 'us-east-1';
  const config: S3ClientConfig = {
    region,
    forcePathStyle: endpoint !== undefined,
    followRegionRedirects: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 120_000,
    },
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  const credentials = options.credentials ?? 'default';
  if (credentials === 'anonymous') {
    // No signature at all, and a fixed empty identity so the SDK never
    // looks up the worker's own credentials for an anonymous request.
    config.signer = { sign: async (request) => request };
    config.credentials = async () => ({ accessKeyId: '', secretAccessKey: '' });
  } else if (credentials !== 'default') {
    config.credentials = { ...credentials };
  }
  return { client: new S3Client(config), endpoint, region };
}

/**
 * The SDK warns on every Node 20 process that its releases after January
 * 2027 will need Node 22. The versions kiln pins support Node 20, and the
 * notice is about kiln's dependency, not something an operator can act on.
 */
function quietNodeVersionNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
