/**
 * The worker's access to data outside kiln, from the settings: URL inputs
 * (fetch policy, cache under the data dir) and upload stores, sharing one
 * `DataStoreAccess` (whose credentials a run uses).
 */
import { join } from 'node:path';
import type { Settings } from '../settings.js';
import { DataStoreAccess } from './data-store-access.js';
import { InputFetchPolicy } from './input-fetch-policy.js';
import { InputFetcher } from './input-fetcher.js';
import { UploadStores } from './upload-stores.js';

export interface DataLake {
  inputFetcher: InputFetcher;
  uploadStores: UploadStores;
}

export function createDataLake(
  settings: Pick<
    Settings,
    | 'dataDir'
    | 'inputHosts'
    | 'inputPrivateNetworks'
    | 'dataCredentials'
    | 'dataStores'
  >,
): DataLake {
  const access = new DataStoreAccess({ mode: settings.dataCredentials });
  return {
    inputFetcher: new InputFetcher({
      policy: new InputFetchPolicy({
        hosts: settings.inputHosts,
        privateNetworks: settings.inputPrivateNetworks,
      }),
      cacheDir: join(settings.dataDir, 'input-cache'),
      access,
    }),
    uploadStores: new UploadStores({ stores: settings.dataStores, access }),
  };
}
