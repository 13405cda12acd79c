import { UnsupportedError } from '../../errors/unsupported-error';
import { CacheApiModelCacheStore, type CacheStorageLike } from './cache-api-model-cache-store';
import type { ModelCacheStore } from './model-cache-store';
import { type OpfsDirectoryHandle, OpfsModelCacheStore } from './opfs-model-cache-store';

export interface OpenBrowserModelCacheStoreParams {
  /** `auto` (default): OPFS when it can write files here, else the Cache API. */
  prefer?: 'auto' | 'opfs' | 'cache-api';
  /** Defaults to the global `navigator.storage` and `caches`; injectable for tests. */
  storageManager?: { getDirectory?: () => Promise<OpfsDirectoryHandle> };
  cacheStorage?: CacheStorageLike;
}

/**
 * The browser's model store: OPFS where `navigator.storage.getDirectory()` gives a folder whose
 * files can be written (`createWritable`), otherwise the Cache API.
 */
export async function openBrowserModelCacheStore(params: OpenBrowserModelCacheStoreParams = {}): Promise<ModelCacheStore> {
  const prefer = params.prefer ?? 'auto';
  const globals = globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<unknown> } }; caches?: unknown };
  const storageManager = params.storageManager ?? (globals.navigator?.storage as OpenBrowserModelCacheStoreParams['storageManager']);
  const cacheStorage = params.cacheStorage ?? (globals.caches as CacheStorageLike | undefined);
  let opfsFailure: unknown;
  if (prefer !== 'cache-api' && typeof storageManager?.getDirectory === 'function') {
    try {
      const root = await storageManager.getDirectory();
      if (await canWriteFiles(root)) return new OpfsModelCacheStore(root);
      opfsFailure = new Error('OPFS files here have no createWritable');
    } catch (error) {
      opfsFailure = error;
    }
  }
  if (prefer !== 'opfs' && cacheStorage !== undefined && typeof cacheStorage.open === 'function') {
    return new CacheApiModelCacheStore(cacheStorage);
  }
  throw new UnsupportedError({
    feature: 'browser model cache',
    value: prefer,
    supported: ['opfs (navigator.storage.getDirectory with createWritable)', 'cache-api (caches)'],
    cause: opfsFailure,
    message:
      'No browser store for model files: this context has neither a writable origin private file system nor the Cache API ' +
      '(both need a secure context: https or localhost)',
  });
}

async function canWriteFiles(root: OpfsDirectoryHandle): Promise<boolean> {
  const probeName = '.gemma3n-write-probe';
  const handle = await root.getFileHandle(probeName, { create: true });
  const writable = typeof handle.createWritable === 'function';
  await root.removeEntry(probeName).catch(() => undefined);
  return writable;
}
