export type {
  DatumRecord,
  ExecutionStore,
  ListExecutionsOptions,
  ReadLogOptions,
  UpdateOptions,
} from './execution-store.js';
export type { ListRunsOptions, RunNodePatch, RunStore } from './run-store.js';
export { ACTIVE_RUN_STATUSES } from './run-store.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export {
  createStores,
  type CreateStoresOptions,
  type Stores,
} from './create-stores.js';
