export type { CachedFileRecord, ModelCacheManifest, ModelCacheStore, ModelFileAppender } from './model-cache-store';
export {
  OpfsModelCacheStore,
  type OpfsDirectoryHandle,
  type OpfsFileHandle,
  type OpfsWritableStream,
} from './opfs-model-cache-store';
export { CacheApiModelCacheStore, type CacheLike, type CacheStorageLike } from './cache-api-model-cache-store';
export { openBrowserModelCacheStore, type OpenBrowserModelCacheStoreParams } from './open-browser-model-cache-store';
export { CachedModelFiles, type CachedModelFilesParams, type CachedModelProgressEvent, type PrefetchResult } from './cached-model-files';
export { listCachedModels, clearCachedModels, type CachedModelSummary } from './model-cache-list';
export { PickedFolderModelFiles, type PickedDirectoryHandle, type PickedFile } from './picked-folder-model-files';
