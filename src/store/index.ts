export type {
  DatumRecord,
  ExecutionStore,
  ListExecutionsOptions,
  ReadLogOptions,
} from './execution-store.js';
export type {
  CreateRunInit,
  ListRunsOptions,
  NodeChange,
  NodeChangeResult,
  ReadEventsOptions,
  RunChange,
  RunChangeResult,
  RunStore,
  StopRequest,
} from './run-store.js';
export type {
  TaskExpansion,
  TaskExpansionResult,
  TaskStore,
} from './task-store.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export {
  createStores,
  type CreateStoresOptions,
  type Stores,
} from './create-stores.js';
export type { ConfigStore } from './config-store.js';
export type { RunEventFeed } from './run-event-feed.js';
