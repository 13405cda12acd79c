import { modelPathSegments } from '../model-path';
import type { ModelCacheManifest, ModelCacheStore, ModelFileAppender } from './model-cache-store';

/** The parts of the Cache API this store uses (the browser's `caches`, or a test double). */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
  keys(): Promise<readonly { url: string }[]>;
}
export interface CacheStorageLike {
  open(cacheName: string): Promise<CacheLike>;
}

/** Cache keys are URLs; this origin is never fetched, it only namespaces the entries. */
const KEY_ORIGIN = 'https://gemma3n-model-cache.invalid/';
const MANIFEST_NAME = 'manifest.json';

/**
 * Model files in the Cache API, for browsers without OPFS writable files. An entry is stored
 * whole by `put`, so an appender holds its new bytes in memory until `close` writes the old
 * and new bytes as one entry; a partial file is kept the same way and continued later.
 */
export class CacheApiModelCacheStore implements ModelCacheStore {
  readonly kind = 'cache-api' as const;
  private cachePromise: Promise<CacheLike> | undefined;

  constructor(
    private readonly storage: CacheStorageLike,
    private readonly cacheName = 'gemma3n-models',
  ) {}

  async readManifest(modelKey: string): Promise<ModelCacheManifest | undefined> {
    const response = await (await this.cache()).match(this.manifestKey(modelKey));
    return response === undefined ? undefined : ((await response.json()) as ModelCacheManifest);
  }

  async writeManifest(manifest: ModelCacheManifest): Promise<void> {
    const body = JSON.stringify(manifest);
    await (await this.cache()).put(this.manifestKey(manifest.modelKey), new Response(body, { headers: { 'content-type': 'application/json' } }));
  }

  async readFile(modelKey: string, path: string): Promise<Blob | undefined> {
    const response = await (await this.cache()).match(this.fileKey(modelKey, path));
    return response === undefined ? undefined : response.blob();
  }

  async openAppender(modelKey: string, path: string, offset: number): Promise<ModelFileAppender> {
    const cache = await this.cache();
    const key = this.fileKey(modelKey, path);
    const existing = offset === 0 ? undefined : await (await cache.match(key))?.blob();
    const parts: BlobPart[] = existing === undefined ? [] : [existing.slice(0, offset)];
    return {
      async write(chunk: Uint8Array): Promise<void> {
        parts.push(chunk.slice());
      },
      async close(): Promise<void> {
        await cache.put(key, new Response(new Blob(parts)));
      },
    };
  }

  async listModels(): Promise<string[]> {
    const keys = await (await this.cache()).keys();
    return keys
      .map((request) => request.url)
      .filter((url) => url.startsWith(KEY_ORIGIN) && url.endsWith(`/${MANIFEST_NAME}`))
      .map((url) => decodeURIComponent(url.slice(KEY_ORIGIN.length, -(MANIFEST_NAME.length + 1))));
  }

  async removeModel(modelKey: string): Promise<void> {
    const cache = await this.cache();
    const prefix = `${KEY_ORIGIN}${encodeURIComponent(modelKey)}/`;
    for (const request of await cache.keys()) {
      if (request.url.startsWith(prefix)) await cache.delete(request.url);
    }
  }

  private cache(): Promise<CacheLike> {
    this.cachePromise ??= this.storage.open(this.cacheName);
    return this.cachePromise;
  }

  private manifestKey(modelKey: string): string {
    return `${KEY_ORIGIN}${encodeURIComponent(modelKey)}/${MANIFEST_NAME}`;
  }

  private fileKey(modelKey: string, path: string): string {
    const encoded = modelPathSegments(path).map(encodeURIComponent).join('/');
    return `${KEY_ORIGIN}${encodeURIComponent(modelKey)}/files/${encoded}`;
  }
}
