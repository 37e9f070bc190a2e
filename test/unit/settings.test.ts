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
});
