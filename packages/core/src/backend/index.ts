export type {
  Backend,
  ExternalDataEntry,
  ModelBytesSource,
  ModelPathSource,
  ModelSource,
  SessionOptions,
} from './backend';
export {
  BackendRegistry,
  listBackends,
  registerBackend,
  resolveBackend,
  sharedBackendRegistry,
  type BackendInfo,
  type BackendStatus,
} from './backend-registry';
