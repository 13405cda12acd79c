/**
 * What a model cache knows about one file of a model folder: its size and whether all of it is
 * stored (`incomplete`: known size, not all stored yet — a download that can be continued), or that
 * the server said it does not exist (so a second load does not ask again).
 */
export type CachedFileRecord = { state: 'complete'; size: number } | { state: 'incomplete'; size: number } | { state: 'missing' };

/** The record of one cached model folder, kept next to its files. */
export interface ModelCacheManifest {
  version: 1;
  /** The cache key (the folder's base URL). */
  modelKey: string;
  files: Record<string, CachedFileRecord>;
  /** ISO time of the last change. */
  updatedAt: string;
}

/** Appends bytes to a stored file; `close` makes what was written durable. */
export interface ModelFileAppender {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where downloaded model files are kept in a browser: OPFS, or the Cache API where OPFS is
 * missing. Paths are model-folder paths (`onnx/embed_tokens.onnx`), already checked.
 */
export interface ModelCacheStore {
  readonly kind: 'opfs' | 'cache-api';
  readManifest(modelKey: string): Promise<ModelCacheManifest | undefined>;
  writeManifest(manifest: ModelCacheManifest): Promise<void>;
  /** The stored bytes of a file (complete or partial) as a Blob, read lazily; undefined when absent. */
  readFile(modelKey: string, path: string): Promise<Blob | undefined>;
  /** Opens a file for writing from `offset`: bytes before it are kept, bytes after it dropped. */
  openAppender(modelKey: string, path: string, offset: number): Promise<ModelFileAppender>;
  /** Keys of every model with a manifest. */
  listModels(): Promise<string[]>;
  /** Removes a model's files and manifest; no error when it is not there. */
  removeModel(modelKey: string): Promise<void>;
}
