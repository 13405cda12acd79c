import type { ModelCacheStore } from './model-cache-store';

/** One cached model folder, as `listCachedModels` reports it. */
export interface CachedModelSummary {
  modelKey: string;
  /** Files stored whole. */
  completeFiles: number;
  /** Files known (sized) but not stored whole: an interrupted or not yet started download. */
  incompleteFiles: number;
  /** Sum of the sizes of the files stored whole. */
  completeBytes: number;
  updatedAt: string;
}

/** Every model folder in the store, from the manifests (no file is read). */
export async function listCachedModels(store: ModelCacheStore): Promise<CachedModelSummary[]> {
  const summaries: CachedModelSummary[] = [];
  for (const modelKey of await store.listModels()) {
    const manifest = await store.readManifest(modelKey);
    if (manifest === undefined) continue;
    const records = Object.values(manifest.files);
    summaries.push({
      modelKey,
      completeFiles: records.filter((record) => record.state === 'complete').length,
      incompleteFiles: records.filter((record) => record.state === 'incomplete').length,
      completeBytes: records.reduce((sum, record) => sum + (record.state === 'complete' ? record.size : 0), 0),
      updatedAt: manifest.updatedAt,
    });
  }
  return summaries;
}

/** Removes one model folder (by key), or every one when no key is given. */
export async function clearCachedModels(store: ModelCacheStore, modelKey?: string): Promise<void> {
  const keys = modelKey === undefined ? await store.listModels() : [modelKey];
  for (const key of keys) await store.removeModel(key);
}
