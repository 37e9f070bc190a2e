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
});
