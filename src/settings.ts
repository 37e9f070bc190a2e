/**
 * Service settings: read once at start from the environment (and flags,
 * which the CLI passes as overrides), validated, with messages that say how
 * to fix each problem. Nothing else in kiln reads `process.env`.
 * docs/configuration.md lists every setting; keep the two in step.
 */
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { isCidr } from './artifacts/input-fetch-policy.js';
import { KilnError } from './errors.js';
import { parseIpv4Cidr, toNumber } from './net/parse-ipv4-cidr.js';

const Port = z.coerce
  .number({ message: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const LOOPBACK = {
  first: toNumber('127.0.0.0'),
  last: toNumber('127.255.255.255'),
};

/** An allowed range for steps; loopback is refused since it can't work. */
const AllowedRange = z.string().transform((text, context) => {
  const parsed = parseIpv4Cidr(text);
  if (!parsed.ok) {
    context.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  if (parsed.first <= LOOPBACK.last && parsed.last >= LOOPBACK.first) {
    context.addIssue({
      code: 'custom',
      message: `${parsed.cidr} overlaps loopback (127.0.0.0/8): a step never reaches this machine's addresses, whatever is allowed — list only the ranges steps need`,
    });
    return z.NEVER;
  }
  return parsed.cidr;
});

const DnsServer = z
  .string()
  .refine(
    (text) => isIPv4(text),
    'must be IPv4 addresses, e.g. 1.1.1.1,9.9.9.9',
  )
  .refine(
    (text) => !text.startsWith('127.'),
    "a resolver on loopback (such as systemd-resolved at 127.0.0.53) is out of a step's reach: name the resolvers it forwards to",
  );
const S3_LOCATION = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;

export const Settings = z.object({
  dataDir: z.string().min(1),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  redisPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only'),
  port: Port,
  /** Workers' /healthz, /readyz and /metrics listener; off when unset. */
  workerPort: Port.optional(),
  host: z.string().min(1),
  publicUrl: z
    .url({ message: 'must be a URL such as https://kiln.example.com' })
    .optional(),
  webhookSecret: z.string().min(1).optional(),
  webhookSecretPrevious: z.string().min(1).optional(),
  /** When set, `/metrics` wants it as a bearer token. */
  metricsToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /** `/metrics` for anyone; else it is closed until a token is set. */
  metricsPublic: z.boolean(),
  webhookMaxBytes: z.coerce.number().int().min(1024),
  /** Request-body bytes the webhook route holds at once (503 past it). */
  webhookInflightBytes: z.coerce.number().int().min(1024),
  webhookTimeoutMs: z.coerce.number().int().min(100).max(60_000),
  allowLocalRepositories: z.boolean(),
  runtime: z.enum(['docker', 'kubernetes', 'local', 'auto', 'null'], {
    message: 'must be docker, kubernetes, local or auto',
  }),
  concurrency: z.coerce.number().int().min(1, 'must be at least 1').max(256),
  workerId: z.string().min(1),
  /** BullMQ job lock: a dead worker's step is taken up after about this. */
  lockDurationMs: z.coerce.number().int().min(1000).max(3_600_000),
  stalledIntervalMs: z.coerce.number().int().min(500).max(3_600_000),
  /** How long a git server may stay silent before a fetch gives up. */
  gitStallMs: z.coerce.number().int().min(1000).max(600_000),
  /** How long a stopping worker waits for its steps before handing them back. */
  shutdownGraceMs: z.coerce.number().int().min(0).max(3_600_000),
  logLevel: z.enum([
    'trace',
    'debug',
    'info',
    'warn',
    'error',
    'fatal',
    'silent',
  ]),
  githubApiUrl: z.url().optional(),
  githubToken: z.string().min(1).optional(),
  githubAppId: z
    .string()
    .regex(/^\d+$/, 'must be the numeric App ID')
    .optional(),
  githubPrivateKey: z.string().min(1).optional(),
  /** A GitHub API request that has not answered after this is abandoned. */
  githubTimeoutMs: z.coerce.number().int().min(100).max(600_000),
  /**
   * While GitHub refuses kiln (a rate limit that outlived its reset,
   * refused credentials), reports try it at most once per this long.
   */
  githubProbeIntervalMs: z.coerce.number().int().min(1000).max(3_600_000),
  /**
   * Repository webhooks (`owner/name:hook id`) whose failed deliveries are
   * redelivered with token auth (an App's own webhook needs no entry).
   */
  githubRepoHooks: z.array(
    z
      .string()
      .regex(
        /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+:\d{1,19}$/,
        'entries like acme/models:123456789 (the repository and its webhook id)',
      ),
  ),
  /** How often a server asks GitHub for failed deliveries; 0: never. */
  redeliverIntervalMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .refine((ms) => ms === 0 || ms >= 1000, 'must be 0 (off) or at least 1000'),
  /** How far back the first pass looks (GitHub keeps 3 days). */
  redeliverLookbackMs: z.coerce
    .number()
    .int()
    .min(60_000)
    .max(3 * 86_400_000, 'at most 3 days (GitHub keeps deliveries 3 days)'),
  /** Redeliveries asked for in one pass, at most. */
  redeliverMax: z.coerce.number().int().min(1).max(1000),
  publicRead: z.boolean(),
  /** Registry host → credentials, for pulling step images. */
  registryAuth: z.record(
    z.string().min(1),
    z.object({
      username: z
        .string({ message: 'each registry needs a "username"' })
        .min(1),
      password: z
        .string({ message: 'each registry needs a "password"' })
        .min(1),
    }),
    {
      message:
        'must be JSON like {"ghcr.io": {"username": "me", "password": "TOKEN"}}',
    },
  ),
  /** KUBECONFIG as kubectl reads it (the Kubernetes runtime). */
  kubeconfig: z.string().min(1).optional(),
  kubernetesNamespace: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
      'must be a namespace name (lower-case letters, digits and -)',
    )
    .optional(),
  kubernetesFiles: z.enum(['copy', 'host-path'], {
    message: 'must be copy or host-path',
  }),
  kubernetesHelperImage: z.string().min(1),
  /** Path of the environments file (environment → node pool). */
  kubernetesEnvironments: z.string().min(1).optional(),
  kubernetesNodeName: z.string().min(1).optional(),
  kubernetesImagePullSecrets: z.array(
    z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
        'must be Secret names separated by commas or spaces',
      ),
  ),
  kubernetesUnschedulableTimeoutMs: z.coerce.number().int().min(0),
  kubernetesImagePullGraceMs: z.coerce.number().int().min(0),
  /**
   * The Docker network (and Linux bridge, and nftables table) kiln keeps
   * for `network: true` steps: public addresses only (docs/security.md).
   */
  stepNetwork: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,14}$/,
      'lower-case letters, digits and -, starting with a letter, at most 15 (it names a Linux bridge)',
    ),
  /** Non-public IPv4 ranges steps may reach anyway (a package mirror). */
  stepNetworkAllow: z.array(AllowedRange),
  /** Resolvers written into steps' resolv.conf; unset: the host's. */
  stepNetworkDns: z.array(DnsServer).min(1).optional(),
  /** `network: true` shares the host's network (the old, unsafe way). */
  unsafeStepHostNetwork: z.boolean(),
  /**
   * How the Docker runtime hands a step its repository's secrets: `env`
   * (container environment, shown by `docker inspect`) or `files` (a
   * read-only mount the step's shell exports from; docs/security.md).
   */
  secretsDelivery: z.enum(['env', 'files'], {
    message: 'must be env or files',
  }),
  /** Host folder for `files` delivery; unset: `<dataDir>/step-secrets`. */
  secretsDir: z.string().min(1).optional(),
  /** Start even when steps could reach a Redis without a password. */
  unsafeRedisWithoutPassword: z.boolean(),
  /** Bytes kept free on a local artifact store's disk (outputs are refused first). */
  artifactsReserveBytes: z.coerce.number().int().min(0),
  /** A step's outputs in all, bytes; more ends the step in error. */
  stepOutputLimitBytes: z.coerce.number().int().min(1),
  /** What a step may write to its container's root filesystem, bytes. */
  stepRootfsLimitBytes: z.coerce.number().int().min(1),
  /** Time limit of steps whose YAML sets none. */
  stepTimeLimitMs: z.coerce.number().int().min(1000),
  /** Globs of the images steps may run; unset: any. */
  stepImages: z.array(z.string().min(1).max(512)).min(1).optional(),
  /** Which runs may have devices (GPUs): trusted ones, none, or all. */
  stepDevices: z.enum(['trusted', 'none', 'all']),
  /** Refuse images without a digest whose tag is `latest` or missing. */
  stepImagesPinned: z.boolean(),
  /** Where artifacts live: unset, `<dataDir>/artifacts`; `s3://bucket/prefix`. */
  artifactsUrl: z
    .string()
    .regex(S3_LOCATION, 'must be s3://bucket or s3://bucket/prefix')
    .optional(),
  /** How the UI/API hands out outputs of an S3 store. */
  artifactsDownload: z.enum(['presigned', 'proxy'], {
    message: 'must be presigned or proxy',
  }),
  /** Host names URL inputs may come from; empty: any public host. */
  inputHosts: z.array(
    z
      .string()
      .regex(
        /^(\*\.)?[a-z0-9.-]+$/i,
        'host names like data.example.com or *.example.com',
      ),
  ),
  /** Networks inputs may be fetched from although private or loopback. */
  inputPrivateNetworks: z.array(
    z.string().refine(isCidr, 'networks in CIDR form, like 10.0.0.0/8'),
  ),
  /** Whose credentials s3:// inputs and upload stores use without the repository's own. */
  dataCredentials: z.enum(['repository', 'worker'], {
    message: 'must be repository or worker',
  }),
  /** `upload-store` names → `s3://bucket/prefix`. */
  dataStores: z.record(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'store names: letters, digits, . _ -'),
    z.string().regex(S3_LOCATION, 'each store must be s3://bucket/prefix'),
    { message: 'must be JSON like {"lake": "s3://bucket/prefix"}' },
  ),
});
export type Settings = z.infer<typeof Settings>;

export class SettingsError extends KilnError {
  readonly code = 'INVALID_SETTINGS';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`kiln can't start with these settings:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

const ENV_NAMES: Record<keyof Settings, string> = {
  dataDir: 'KILN_DATA_DIR',
  redisUrl: 'REDIS_URL',
  redisPrefix: 'KILN_REDIS_PREFIX',
  port: 'KILN_PORT',
  workerPort: 'KILN_WORKER_PORT',
  host: 'KILN_HOST',
  publicUrl: 'KILN_PUBLIC_URL',
  webhookSecret: 'KILN_WEBHOOK_SECRET',
  webhookSecretPrevious: 'KILN_WEBHOOK_SECRET_PREVIOUS',
  metricsToken: 'KILN_METRICS_TOKEN',
  metricsPublic: 'KILN_METRICS_PUBLIC',
  webhookMaxBytes: 'KILN_WEBHOOK_MAX_BYTES',
  webhookInflightBytes: 'KILN_WEBHOOK_INFLIGHT_BYTES',
  webhookTimeoutMs: 'KILN_WEBHOOK_TIMEOUT_MS',
  allowLocalRepositories: 'KILN_ALLOW_LOCAL_REPOSITORIES',
  runtime: 'KILN_RUNTIME',
  concurrency: 'KILN_CONCURRENCY',
  workerId: 'KILN_WORKER_ID',
  lockDurationMs: 'KILN_LOCK_DURATION_MS',
  stalledIntervalMs: 'KILN_STALLED_INTERVAL_MS',
  shutdownGraceMs: 'KILN_SHUTDOWN_GRACE_MS',
  gitStallMs: 'KILN_GIT_STALL_MS',
  logLevel: 'KILN_LOG_LEVEL',
  githubApiUrl: 'KILN_GITHUB_API_URL',
  githubToken: 'KILN_GITHUB_TOKEN',
  githubAppId: 'KILN_GITHUB_APP_ID',
  githubPrivateKey: 'KILN_GITHUB_PRIVATE_KEY',
  githubTimeoutMs: 'KILN_GITHUB_TIMEOUT_MS',
  githubProbeIntervalMs: 'KILN_GITHUB_PROBE_INTERVAL_MS',
  githubRepoHooks: 'KILN_GITHUB_REPO_HOOKS',
  redeliverIntervalMs: 'KILN_REDELIVER_INTERVAL_MS',
  redeliverLookbackMs: 'KILN_REDELIVER_LOOKBACK_MS',
  redeliverMax: 'KILN_REDELIVER_MAX',
  publicRead: 'KILN_PUBLIC_READ',
  registryAuth: 'KILN_REGISTRY_AUTH',
  kubeconfig: 'KUBECONFIG',
  kubernetesNamespace: 'KILN_KUBERNETES_NAMESPACE',
  kubernetesFiles: 'KILN_KUBERNETES_FILES',
  kubernetesHelperImage: 'KILN_KUBERNETES_HELPER_IMAGE',
  kubernetesEnvironments: 'KILN_KUBERNETES_ENVIRONMENTS',
  kubernetesNodeName: 'KILN_KUBERNETES_NODE_NAME',
  kubernetesImagePullSecrets: 'KILN_KUBERNETES_IMAGE_PULL_SECRETS',
  kubernetesUnschedulableTimeoutMs: 'KILN_KUBERNETES_UNSCHEDULABLE_TIMEOUT_MS',
  kubernetesImagePullGraceMs: 'KILN_KUBERNETES_IMAGE_PULL_GRACE_MS',
  stepNetwork: 'KILN_STEP_NETWORK',
  stepNetworkAllow: 'KILN_STEP_NETWORK_ALLOW',
  stepNetworkDns: 'KILN_STEP_NETWORK_DNS',
  unsafeStepHostNetwork: 'KILN_UNSAFE_STEP_HOST_NETWORK',
  secretsDelivery: 'KILN_SECRETS_DELIVERY',
  secretsDir: 'KILN_SECRETS_DIR',
  unsafeRedisWithoutPassword: 'KILN_UNSAFE_REDIS_WITHOUT_PASSWORD',
  artifactsReserveBytes: 'KILN_ARTIFACTS_RESERVE_BYTES',
  stepOutputLimitBytes: 'KILN_STEP_OUTPUT_LIMIT_BYTES',
  stepRootfsLimitBytes: 'KILN_STEP_ROOTFS_LIMIT_BYTES',
  stepTimeLimitMs: 'KILN_STEP_TIME_LIMIT_MS',
  stepImages: 'KILN_STEP_IMAGES',
  stepDevices: 'KILN_STEP_DEVICES',
  stepImagesPinned: 'KILN_STEP_IMAGES_PINNED',
  artifactsUrl: 'KILN_ARTIFACTS_URL',
  artifactsDownload: 'KILN_ARTIFACTS_DOWNLOAD',
  inputHosts: 'KILN_INPUT_HOSTS',
  inputPrivateNetworks: 'KILN_INPUT_PRIVATE_NETWORKS',
  dataCredentials: 'KILN_DATA_CREDENTIALS',
  dataStores: 'KILN_DATA_STORES',
};

export function envNameOf(key: keyof Settings): string {
  return ENV_NAMES[key];
}

/**
 * Reads settings from `env`, with `overrides` (from command-line flags)
 * taking precedence. Throws `SettingsError` listing every problem.
 */
export function readSettings(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<keyof Settings, unknown>> = {},
): Settings {
  const value = (key: keyof Settings): unknown => {
    if (overrides[key] !== undefined) return overrides[key];
    const raw = env[ENV_NAMES[key]];
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const input = {
    dataDir: resolve(String(value('dataDir') ?? join(homedir(), '.kiln'))),
    redisUrl: value('redisUrl'),
    redisPrefix: value('redisPrefix') ?? 'kiln',
    port: value('port') ?? 8080,
    workerPort: value('workerPort'),
    host: value('host') ?? '0.0.0.0',
    publicUrl: value('publicUrl'),
    webhookSecret: value('webhookSecret'),
    webhookSecretPrevious: value('webhookSecretPrevious'),
    metricsToken: value('metricsToken'),
    metricsPublic: parseBooleanSetting(value('metricsPublic')),
    webhookMaxBytes: value('webhookMaxBytes') ?? 25 * 1024 * 1024,
    // Four bodies at the cap, or hundreds of ordinary ones, at once.
    webhookInflightBytes: value('webhookInflightBytes') ?? 100 * 1024 * 1024,
    // A slow client is cut here (GitHub itself waits 10 s for the answer).
    webhookTimeoutMs: value('webhookTimeoutMs') ?? 10_000,
    allowLocalRepositories: ['1', 'true', 'yes'].includes(
      String(value('allowLocalRepositories') ?? 'false').toLowerCase(),
    ),
    runtime: value('runtime') ?? 'auto',
    concurrency: value('concurrency') ?? 2,
    workerId: value('workerId') ?? hostname(),
    lockDurationMs: value('lockDurationMs') ?? 30_000,
    stalledIntervalMs: value('stalledIntervalMs') ?? 30_000,
    shutdownGraceMs: value('shutdownGraceMs') ?? 30_000,
    gitStallMs: value('gitStallMs') ?? 30_000,
    logLevel: value('logLevel') ?? 'info',
    githubApiUrl: value('githubApiUrl'),
    githubToken: value('githubToken'),
    githubAppId: value('githubAppId'),
    githubPrivateKey: value('githubPrivateKey'),
    // GitHub ends an API request it can't serve in 10 s itself.
    githubTimeoutMs: value('githubTimeoutMs') ?? 20_000,
    githubProbeIntervalMs: value('githubProbeIntervalMs') ?? 60_000,
    githubRepoHooks: parseListSetting(value('githubRepoHooks')) ?? [],
    // GitHub never redelivers by itself; every 5 minutes a server asks.
    redeliverIntervalMs: value('redeliverIntervalMs') ?? 300_000,
    redeliverLookbackMs: value('redeliverLookbackMs') ?? 86_400_000,
    redeliverMax: value('redeliverMax') ?? 50,
    publicRead: ['1', 'true', 'yes'].includes(
      String(value('publicRead') ?? 'false').toLowerCase(),
    ),
    registryAuth: parseJsonSetting(value('registryAuth')) ?? {},
    kubeconfig: value('kubeconfig'),
    kubernetesNamespace: value('kubernetesNamespace'),
    kubernetesFiles: value('kubernetesFiles') ?? 'copy',
    kubernetesHelperImage: value('kubernetesHelperImage') ?? 'busybox:1.36',
    kubernetesEnvironments: value('kubernetesEnvironments'),
    kubernetesNodeName: value('kubernetesNodeName'),
    kubernetesImagePullSecrets:
      parseListSetting(value('kubernetesImagePullSecrets')) ?? [],
    kubernetesUnschedulableTimeoutMs:
      value('kubernetesUnschedulableTimeoutMs') ?? 600_000,
    kubernetesImagePullGraceMs: value('kubernetesImagePullGraceMs') ?? 60_000,
    stepNetwork: value('stepNetwork') ?? 'kiln-steps',
    stepNetworkAllow: parseListSetting(value('stepNetworkAllow')) ?? [],
    stepNetworkDns: parseListSetting(value('stepNetworkDns')),
    unsafeStepHostNetwork: parseBooleanSetting(value('unsafeStepHostNetwork')),
    secretsDelivery: value('secretsDelivery') ?? 'env',
    secretsDir: value('secretsDir'),
    unsafeRedisWithoutPassword: parseBooleanSetting(
      value('unsafeRedisWithoutPassword'),
    ),
    artifactsReserveBytes: value('artifactsReserveBytes') ?? 256 * 1024 ** 2,
    stepOutputLimitBytes: value('stepOutputLimitBytes') ?? 50 * 1024 ** 3,
    stepRootfsLimitBytes: value('stepRootfsLimitBytes') ?? 20 * 1024 ** 3,
    // GitHub Actions' default job limit: a hung step frees its slot in hours.
    stepTimeLimitMs: value('stepTimeLimitMs') ?? 6 * 3_600_000,
    stepImages: parseListSetting(value('stepImages')),
    stepDevices: value('stepDevices') ?? 'trusted',
    stepImagesPinned: parseBooleanSetting(value('stepImagesPinned')),
    artifactsUrl: value('artifactsUrl'),
    artifactsDownload: value('artifactsDownload') ?? 'presigned',
    inputHosts: parseListSetting(value('inputHosts')) ?? [],
    inputPrivateNetworks: parseListSetting(value('inputPrivateNetworks')) ?? [],
    dataCredentials: value('dataCredentials') ?? 'repository',
    dataStores: parseJsonSetting(value('dataStores')) ?? {},
  };
  const parsed = Settings.safeParse(input);
  if (parsed.success) {
    const settings = parsed.data;
    if (settings.webhookInflightBytes < 2 * settings.webhookMaxBytes) {
      throw new SettingsError([
        `KILN_WEBHOOK_INFLIGHT_BYTES=${settings.webhookInflightBytes} is less than twice KILN_WEBHOOK_MAX_BYTES=${settings.webhookMaxBytes}: the largest deliveries could never be taken; raise it`,
      ]);
    }
    if (settings.metricsPublic && settings.metricsToken) {
      throw new SettingsError([
        'KILN_METRICS_PUBLIC=true and KILN_METRICS_TOKEN are both set: /metrics is either open to anyone or behind the token; unset one',
      ]);
    }
    if (settings.githubAppId && !settings.githubPrivateKey) {
      throw new SettingsError([
        "KILN_GITHUB_APP_ID is set but KILN_GITHUB_PRIVATE_KEY is not: set both (the App's private key PEM) or use KILN_GITHUB_TOKEN",
      ]);
    }
    return settings;
  }
  throw new SettingsError(
    parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof Settings | undefined;
      const name = key ? ENV_NAMES[key] : 'settings';
      // Never echo a secret back, even a malformed one.
      const given = key && !SECRET_SETTINGS.has(key) ? value(key) : undefined;
      return `${name}${given === undefined ? '' : `=${JSON.stringify(String(given))}`}: ${issue.message}`;
    }),
  );
}

const SECRET_SETTINGS = new Set<keyof Settings>([
  'webhookSecret',
  'webhookSecretPrevious',
  'metricsToken',
  'githubToken',
  'githubPrivateKey',
  'registryAuth',
]);

/** A comma- or space-separated list; anything else is passed on to zod. */
function parseListSetting(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  return raw.split(/[\s,]+/).filter((item) => item !== '');
}

function parseBooleanSetting(raw: unknown): boolean {
  return ['1', 'true', 'yes'].includes(String(raw ?? 'false').toLowerCase());
}

/** A JSON setting; text that is not JSON is passed on for zod to reject. */
function parseJsonSetting(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
