import { describe, expect, it } from 'vitest';
import { readSettings, SettingsError } from '../../src/settings.js';

describe('readSettings', () => {
  it('applies defaults and reads the environment', () => {
    const settings = readSettings({
      KILN_PORT: '9090',
      KILN_DATA_DIR: '/tmp/k',
    });

    expect(settings).toMatchObject({
      port: 9090,
      dataDir: '/tmp/k',
      runtime: 'auto',
      publicRead: false,
      registryAuth: {},
    });
  });

  it('lets flags win over the environment', () => {
    expect(readSettings({ KILN_PORT: '9090' }, { port: '7070' }).port).toBe(
      7070,
    );
  });

  it('lists every problem with the variable to fix', () => {
    const attempt = () =>
      readSettings({ KILN_PORT: 'eighty', KILN_RUNTIME: 'podman' });

    expect(attempt).toThrow(SettingsError);
    expect(attempt).toThrow(/KILN_PORT="eighty": must be a number/);
    expect(attempt).toThrow(/KILN_RUNTIME="podman"/);
  });

  it('reads registry credentials and never echoes them when malformed', () => {
    const good = readSettings({
      KILN_REGISTRY_AUTH: '{"ghcr.io":{"username":"me","password":"s3cret"}}',
    });
    let message = '';
    try {
      readSettings({
        KILN_REGISTRY_AUTH: '{"ghcr.io":{"username":"me","pass":"s3cret"}}',
      });
    } catch (error) {
      message = (error as Error).message;
    }

    expect(good.registryAuth).toEqual({
      'ghcr.io': { username: 'me', password: 's3cret' },
    });
    expect(message).toMatch(
      /KILN_REGISTRY_AUTH: each registry needs a "password"/,
    );
    expect(message).not.toContain('s3cret');
  });

  it('reads the Kubernetes runtime settings, with defaults', () => {
    const defaults = readSettings({});
    const set = readSettings({
      KILN_RUNTIME: 'kubernetes',
      KUBECONFIG: '/etc/kiln/kubeconfig',
      KILN_KUBERNETES_NAMESPACE: 'kiln-steps',
      KILN_KUBERNETES_FILES: 'host-path',
      KILN_KUBERNETES_IMAGE_PULL_SECRETS: 'ghcr, quay ,',
      KILN_KUBERNETES_UNSCHEDULABLE_TIMEOUT_MS: '5000',
    });

    expect(defaults).toMatchObject({
      kubernetesFiles: 'copy',
      kubernetesHelperImage: 'busybox:1.36',
      kubernetesImagePullSecrets: [],
      kubernetesUnschedulableTimeoutMs: 600_000,
      kubernetesImagePullGraceMs: 60_000,
    });
    expect(set).toMatchObject({
      runtime: 'kubernetes',
      kubeconfig: '/etc/kiln/kubeconfig',
      kubernetesNamespace: 'kiln-steps',
      kubernetesFiles: 'host-path',
      kubernetesImagePullSecrets: ['ghcr', 'quay'],
      kubernetesUnschedulableTimeoutMs: 5000,
    });
    expect(() =>
      readSettings({
        KILN_KUBERNETES_FILES: 'nfs',
        KILN_KUBERNETES_NAMESPACE: 'Kiln_Steps',
      }),
    ).toThrow(
      /KILN_KUBERNETES_NAMESPACE="Kiln_Steps": must be a namespace name[\s\S]*KILN_KUBERNETES_FILES="nfs": must be copy or host-path|KILN_KUBERNETES_FILES="nfs": must be copy or host-path[\s\S]*KILN_KUBERNETES_NAMESPACE/,
    );
  });

  it("gives steps kiln's isolated network by default, with both unsafe modes off", () => {
    expect(readSettings({})).toMatchObject({
      stepNetwork: 'kiln-steps',
      stepNetworkAllow: [],
      stepNetworkDns: undefined,
      unsafeStepHostNetwork: false,
      unsafeRedisWithoutPassword: false,
    });
  });

  it('reads the step network settings', () => {
    const settings = readSettings({
      KILN_STEP_NETWORK: 'steps-2',
      KILN_STEP_NETWORK_ALLOW: '10.1.0.0/16, 192.168.5.7',
      KILN_STEP_NETWORK_DNS: '1.1.1.1,9.9.9.9',
      KILN_UNSAFE_STEP_HOST_NETWORK: 'true',
      KILN_UNSAFE_REDIS_WITHOUT_PASSWORD: '1',
    });

    expect(settings).toMatchObject({
      stepNetwork: 'steps-2',
      stepNetworkAllow: ['10.1.0.0/16', '192.168.5.7/32'],
      stepNetworkDns: ['1.1.1.1', '9.9.9.9'],
      unsafeStepHostNetwork: true,
      unsafeRedisWithoutPassword: true,
    });
  });

  it.each([
    [
      { KILN_STEP_NETWORK: 'Kiln_Steps' },
      /KILN_STEP_NETWORK="Kiln_Steps": lower-case/,
    ],
    [{ KILN_STEP_NETWORK: 'a-very-long-network' }, /at most 15/],
    [{ KILN_STEP_NETWORK_ALLOW: '10.1.2.3/16' }, /write 10\.1\.0\.0\/16/],
    [{ KILN_STEP_NETWORK_ALLOW: '0.0.0.0/0' }, /overlaps loopback/],
    [{ KILN_STEP_NETWORK_ALLOW: '127.0.0.1' }, /overlaps loopback/],
    [{ KILN_STEP_NETWORK_DNS: '127.0.0.53' }, /systemd-resolved/],
    [{ KILN_STEP_NETWORK_DNS: 'dns.example' }, /IPv4 addresses/],
  ])('refuses %o', (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });

  it('reads the artifact store, the data lake and the input fetch policy', () => {
    const defaults = readSettings({});
    const set = readSettings({
      KILN_ARTIFACTS_URL: 's3://ml-artifacts/kiln',
      KILN_ARTIFACTS_DOWNLOAD: 'proxy',
      KILN_INPUT_HOSTS: 'data.example.com, *.lake.example.com',
      KILN_INPUT_PRIVATE_NETWORKS: '10.1.0.0/16,fd00::/8',
      KILN_DATA_CREDENTIALS: 'worker',
      KILN_DATA_STORES: '{"lake": "s3://lake/outputs"}',
    });

    expect(defaults).toMatchObject({
      artifactsDownload: 'presigned',
      inputHosts: [],
      inputPrivateNetworks: [],
      dataCredentials: 'repository',
      dataStores: {},
    });
    expect(defaults.artifactsUrl).toBeUndefined();
    expect(set).toMatchObject({
      artifactsUrl: 's3://ml-artifacts/kiln',
      artifactsDownload: 'proxy',
      inputHosts: ['data.example.com', '*.lake.example.com'],
      inputPrivateNetworks: ['10.1.0.0/16', 'fd00::/8'],
      dataCredentials: 'worker',
      dataStores: { lake: 's3://lake/outputs' },
    });
  });

  it('names the variable of a wrong store URL or network', () => {
    const attempt = () =>
      readSettings({
        KILN_ARTIFACTS_URL: 'https://s3.amazonaws.com/bucket',
        KILN_INPUT_PRIVATE_NETWORKS: '10.0.0.0/8,everything',
        KILN_DATA_STORES: '{"lake": "gs://bucket"}',
      });

    expect(attempt).toThrow(
      /KILN_ARTIFACTS_URL="https:\/\/s3.amazonaws.com\/bucket": must be s3:\/\/bucket or s3:\/\/bucket\/prefix/,
    );
    expect(attempt).toThrow(/KILN_INPUT_PRIVATE_NETWORKS=.*CIDR/);
    expect(attempt).toThrow(/KILN_DATA_STORES.*s3:\/\/bucket\/prefix/);
  });

  it('delivers secrets as env unless the operator says files', () => {
    expect(readSettings({}).secretsDelivery).toBe('env');
    expect(readSettings({}).secretsDir).toBeUndefined();
    const files = readSettings({
      KILN_SECRETS_DELIVERY: 'files',
      KILN_SECRETS_DIR: '/run/kiln-secrets',
    });
    expect(files.secretsDelivery).toBe('files');
    expect(files.secretsDir).toBe('/run/kiln-secrets');
    expect(() => readSettings({ KILN_SECRETS_DELIVERY: 'tmpfs' })).toThrow(
      /KILN_SECRETS_DELIVERY.*env or files/,
    );
  });

  it('reads the redeliverer settings and names a wrong one', () => {
    expect(readSettings({})).toMatchObject({
      redeliverIntervalMs: 300_000,
      redeliverLookbackMs: 86_400_000,
      redeliverMax: 50,
      githubRepoHooks: [],
    });
    const set = readSettings({
      KILN_REDELIVER_INTERVAL_MS: '0',
      KILN_GITHUB_REPO_HOOKS: 'acme/models:123, acme/data:456',
    });
    expect(set.redeliverIntervalMs).toBe(0);
    expect(set.githubRepoHooks).toEqual(['acme/models:123', 'acme/data:456']);

    const attempt = () =>
      readSettings({
        KILN_REDELIVER_INTERVAL_MS: '500',
        KILN_REDELIVER_LOOKBACK_MS: String(4 * 86_400_000),
        KILN_GITHUB_REPO_HOOKS: 'acme/models',
      });

    expect(attempt).toThrow(/KILN_REDELIVER_INTERVAL_MS="500": must be 0/);
    expect(attempt).toThrow(/KILN_REDELIVER_LOOKBACK_MS=.*at most 3 days/);
    expect(attempt).toThrow(/KILN_GITHUB_REPO_HOOKS=.*acme\/models:123456789/);
  });
});
