/**
 * Which credentials a run uses for its data lake (`s3://` inputs and
 * `upload-store` outputs):
 *
 * 1. untrusted runs (fork pull requests): none, anonymous requests only, so
 *    they can read public objects and nothing else;
 * 2. the repository's own secrets `AWS_ACCESS_KEY_ID` +
 *    `AWS_SECRET_ACCESS_KEY` (and optionally `AWS_SESSION_TOKEN`,
 *    `AWS_REGION`, `AWS_ENDPOINT_URL_S3`), set by an operator with
 *    `kiln secret set`;
 * 3. with `KILN_DATA_CREDENTIALS=worker`, the worker's own AWS credentials
 *    (environment, profile, instance role) for any trusted run;
 * 4. otherwise anonymous.
 *
 * Keys are only ever handed to the SDK: never logged, never in a record.
 */
import { createHash } from 'node:crypto';
import {
  createS3Client,
  type CreateS3ClientOptions,
  type KilnS3Client,
} from './create-s3-client.js';

export type DataCredentialsMode = 'repository' | 'worker';

export interface DataStoreAccessOptions {
  /** @defaultValue 'repository' */
  mode?: DataCredentialsMode;
  /** How clients are made (tests point it at their server). */
  createClient?: (options: CreateS3ClientOptions) => Promise<KilnS3Client>;
}

export interface RunAccess {
  /** False for fork runs: they get no credentials at all. */
  trusted: boolean;
  /** The repository's secrets; read only for trusted runs, only when needed. */
  secrets?: () => Promise<Record<string, string>>;
}

export interface DataStoreClient {
  s3: KilnS3Client;
  /** Whose credentials sign the requests. */
  source: 'repository' | 'worker' | 'anonymous';
  /** What to check when the store answers 403, for messages. */
  accessHint: string;
}

export class DataStoreAccess {
  readonly mode: DataCredentialsMode;
  private readonly createClient: (
    options: CreateS3ClientOptions,
  ) => Promise<KilnS3Client>;
  private readonly clients = new Map<string, Promise<KilnS3Client>>();

  constructor(options: DataStoreAccessOptions = {}) {
    this.mode = options.mode ?? 'repository';
    this.createClient = options.createClient ?? createS3Client;
  }

  async clientFor(run: RunAccess): Promise<DataStoreClient> {
    if (!run.trusted) {
      return {
        s3: await this.client('anonymous', { credentials: 'anonymous' }),
        source: 'anonymous',
        accessHint:
          'runs of fork pull requests get no data-lake credentials, so only public objects can be read',
      };
    }
    const secrets = (await run.secrets?.()) ?? {};
    const accessKeyId = secrets.AWS_ACCESS_KEY_ID;
    const secretAccessKey = secrets.AWS_SECRET_ACCESS_KEY;
    if (accessKeyId && secretAccessKey) {
      const options: CreateS3ClientOptions = {
        credentials: {
          accessKeyId,
          secretAccessKey,
          ...(secrets.AWS_SESSION_TOKEN
            ? { sessionToken: secrets.AWS_SESSION_TOKEN }
            : {}),
        },
        ...(secrets.AWS_REGION ? { region: secrets.AWS_REGION } : {}),
        ...(secrets.AWS_ENDPOINT_URL_S3
          ? { endpoint: secrets.AWS_ENDPOINT_URL_S3 }
          : {}),
      };
      const key = createHash('sha256')
        .update(JSON.stringify(options))
        .digest('hex');
      return {
        s3: await this.client(`repository:${key}`, options),
        source: 'repository',
        accessHint:
          "check the repository's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY secrets and the bucket's policy",
      };
    }
    if (this.mode === 'worker') {
      return {
        s3: await this.client('worker', {}),
        source: 'worker',
        accessHint:
          "the worker's AWS credentials (KILN_DATA_CREDENTIALS=worker) can't read it; give the repository its own AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY secrets or grant the worker access",
      };
    }
    return {
      s3: await this.client('anonymous', { credentials: 'anonymous' }),
      source: 'anonymous',
      accessHint:
        'the repository has no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY secrets (kiln secret set) and the operator did not set KILN_DATA_CREDENTIALS=worker, so only public objects can be read',
    };
  }

  /** Destroys the clients (sockets) made so far. */
  close(): void {
    for (const client of this.clients.values()) {
      client.then((made) => made.client.destroy()).catch(() => undefined);
    }
    this.clients.clear();
  }

  private client(
    key: string,
    options: CreateS3ClientOptions,
  ): Promise<KilnS3Client> {
    let client = this.clients.get(key);
    if (!client) {
      // A few repositories' keys at most; start over rather than grow.
      if (this.clients.size >= 64) this.close();
      client = this.createClient(options);
      client.catch(() => this.clients.delete(key));
      this.clients.set(key, client);
    }
    return client;
  }
}
