import { Gemma3nError } from '../../errors/gemma3n-error';
import { ModelFileError } from '../../errors/model-file-error';
import { externalDataFileName } from '../../onnx/onnx-external-data';
import { FetchModelFiles } from '../fetch-model-files';
import type { ByteRange, ModelFiles } from '../model-files';
import { checkByteRange, decodeUtf8, modelPathSegments, parseJsonFile, shortReadError } from '../model-path';
import type { CachedFileRecord, ModelCacheManifest, ModelCacheStore } from './model-cache-store';

/** Progress of one file and of everything this model source has been asked for so far. */
export interface CachedModelProgressEvent {
  path: string;
  /** Bytes of the file that are stored, including those kept from an earlier, interrupted download. */
  loadedBytes: number;
  totalBytes: number;
  /** `cache` when the file was already stored whole and nothing was downloaded. */
  source: 'network' | 'cache';
  overallLoadedBytes: number;
  /** Sum of the sizes known so far; after `prefetch` it is the whole list's size from the start. */
  overallTotalBytes: number;
}

export interface CachedModelFilesParams {
  /** The model folder URL. */
  baseUrl: string | URL;
  store: ModelCacheStore;
  /** Injected fetch; defaults to the global one. */
  fetch?: typeof globalThis.fetch;
  headers?: Record<string, string>;
  onProgress?: (event: CachedModelProgressEvent) => void;
  /**
   * Tries per file when a body breaks off; each try continues with a `Range` request from the
   * last stored byte (default 3). A load after a page reload continues the same way.
   */
  attempts?: number;
}

export interface PrefetchResult {
  files: { path: string; size: number; downloadedBytes: number }[];
  totalBytes: number;
  downloadedBytes: number;
}

/**
 * A model folder served over HTTP and kept in a browser store (OPFS or the Cache API). Every
 * file read is downloaded whole into the store once — resuming with `Range` after an
 * interruption and checked against the server's size — and read from the store afterwards.
 * Sizes and absent files are recorded in a manifest too, so a second load of the same folder
 * makes no network request at all.
 */
export class CachedModelFiles implements ModelFiles {
  readonly location: string;
  /** The cache key: the folder URL. */
  readonly modelKey: string;
  private readonly remote: FetchModelFiles;
  private readonly store: ModelCacheStore;
  private readonly fetchFunction: typeof globalThis.fetch;
  private readonly headers: Record<string, string>;
  private readonly onProgress: ((event: CachedModelProgressEvent) => void) | undefined;
  private readonly attempts: number;
  private manifestPromise: Promise<ModelCacheManifest> | undefined;
  private manifestWrite: Promise<void> = Promise.resolve();
  private readonly downloads = new Map<string, Promise<void>>();
  /** Per file: stored bytes and size, for the overall progress figures. */
  private readonly progressByPath = new Map<string, { loaded: number; total: number }>();
  private readonly reportedFromCache = new Set<string>();

  constructor(params: CachedModelFilesParams) {
    this.remote = new FetchModelFiles({ baseUrl: params.baseUrl, fetch: params.fetch, headers: params.headers });
    this.location = this.remote.location;
    this.modelKey = this.remote.location;
    this.store = params.store;
    this.fetchFunction = params.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = { ...params.headers };
    this.onProgress = params.onProgress;
    this.attempts = params.attempts ?? 3;
  }

  async exists(path: string): Promise<boolean> {
    const record = await this.record(path);
    return record.state !== 'missing';
  }

  async size(path: string): Promise<number> {
    const record = await this.record(path);
    if (record.state === 'missing') throw new ModelFileError({ path, location: this.location, problem: 'missing' });
    return record.size;
  }

  /** The whole file, or a range of it. A file not stored yet is downloaded whole first. */
  async readBytes(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range !== undefined) checkByteRange(range);
    const blob = await this.storedBlob(path);
    if (range === undefined) return new Uint8Array(await blob.arrayBuffer());
    const part = new Uint8Array(await blob.slice(range.offset, range.offset + range.length).arrayBuffer());
    if (part.length < range.length) {
      throw shortReadError({ path, location: this.location, range, actualBytes: part.length, fileSize: blob.size });
    }
    return part;
  }

  async readText(path: string): Promise<string> {
    return decodeUtf8(await this.readBytes(path));
  }

  async readJson<T = unknown>(path: string): Promise<T> {
    return parseJsonFile<T>(await this.readText(path), path, this.location);
  }

  /**
   * Downloads (or finds stored) every listed file that exists, one after another, sizing them
   * all first so the overall progress has its real total from the first event. For an `.onnx`
   * path, its external data files (`.onnx_data`, `.onnx_data_1`, …) are included.
   */
  async prefetch(paths: readonly string[]): Promise<PrefetchResult> {
    const existing: { path: string; size: number }[] = [];
    for (const path of paths) {
      if (!(await this.exists(path))) continue;
      existing.push({ path, size: await this.size(path) });
      if (!path.endsWith('.onnx')) continue;
      for (let index = 0; ; index += 1) {
        const dataPath = externalDataFileName(path, index);
        if (!(await this.exists(dataPath))) break;
        existing.push({ path: dataPath, size: await this.size(dataPath) });
      }
    }
    for (const file of existing) await this.noteProgress(file.path, file.size);
    const files: PrefetchResult['files'] = [];
    for (const file of existing) {
      const before = this.downloadedBytes;
      await this.storedBlob(file.path);
      files.push({ ...file, downloadedBytes: this.downloadedBytes - before });
    }
    return {
      files,
      totalBytes: files.reduce((sum, file) => sum + file.size, 0),
      downloadedBytes: files.reduce((sum, file) => sum + file.downloadedBytes, 0),
    };
  }

  /** Bytes this object has downloaded from the network (not counting what was already stored). */
  downloadedBytes = 0;

  /** The file's stored bytes, downloading or completing it first when needed. */
  private async storedBlob(path: string): Promise<Blob> {
    const key = modelPathSegments(path).join('/');
    const record = await this.record(key);
    if (record.state === 'missing') throw new ModelFileError({ path, location: this.location, problem: 'missing' });
    if (record.state === 'complete') {
      const blob = await this.store.readFile(this.modelKey, key);
      // The store may have been cleared or evicted behind the manifest's back: download again.
      if (blob !== undefined && blob.size === record.size) {
        if (!this.reportedFromCache.has(key)) {
          this.reportedFromCache.add(key);
          this.report(key, record.size, record.size, 'cache');
        }
        return blob;
      }
      await this.setRecord(key, { state: 'incomplete', size: record.size });
    }
    // Downloaded now: later reads of it are not news for the progress display.
    this.reportedFromCache.add(key);
    let download = this.downloads.get(key);
    if (download === undefined) {
      download = this.download(key, record.size).finally(() => this.downloads.delete(key));
      this.downloads.set(key, download);
    }
    await download;
    const blob = await this.store.readFile(this.modelKey, key);
    if (blob === undefined) throw this.unreadable(key, 'the browser store lost the file right after it was written');
    return blob;
  }

  private async download(path: string, size: number): Promise<void> {
    let stored = (await this.store.readFile(this.modelKey, path))?.size ?? 0;
    // More bytes than the file has: the folder changed on the server; start over.
    if (stored > size) stored = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < this.attempts && stored < size; attempt += 1) {
      try {
        stored = await this.downloadFrom(path, stored, size);
        lastError = undefined;
      } catch (error) {
        lastError = error;
        stored = (await this.store.readFile(this.modelKey, path))?.size ?? 0;
        await this.setRecord(path, { state: 'incomplete', size });
        // A missing file or a refused request will not get better by asking again.
        if (ModelFileError.isInstance(error) && error.problem !== 'unreadable') throw error;
      }
    }
    if (size === 0) await (await this.store.openAppender(this.modelKey, path, 0)).close();
    if (stored < size) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new ModelFileError({
        path,
        location: this.location,
        problem: 'unreadable',
        expectedBytes: size,
        actualBytes: stored,
        cause: lastError,
        message:
          `Model file "${path}" from ${this.location}: the download stopped after ${stored} of ${size} bytes` +
          `${reason}. Loading again continues from byte ${stored}`,
      });
    }
    const blob = await this.store.readFile(this.modelKey, path);
    if (blob === undefined || blob.size !== size) {
      await this.setRecord(path, { state: 'incomplete', size });
      throw new ModelFileError({ path, location: this.location, problem: 'truncated', expectedBytes: size, actualBytes: blob?.size ?? 0 });
    }
    await this.setRecord(path, { state: 'complete', size });
  }

  /** One request from byte `offset`; returns the bytes stored afterwards. */
  private async downloadFrom(path: string, offset: number, size: number): Promise<number> {
    const url = this.remote.url(path);
    const headers: Record<string, string> = { ...this.headers };
    if (offset > 0) headers.Range = `bytes=${offset}-`;
    let response: Response;
    try {
      response = await this.fetchFunction(url, { method: 'GET', headers });
    } catch (error) {
      throw this.unreadable(path, `GET ${url} failed`, error);
    }
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      await this.setRecord(path, { state: 'missing' });
      throw new ModelFileError({ path, location: this.location, problem: 'missing' });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ModelFileError({
        path,
        location: this.location,
        problem: 'unreadable',
        message: `Model file "${path}" from ${this.location}: the server answered HTTP ${response.status} ${response.statusText}`.trim(),
      });
    }
    // 200 to a ranged request: the server ignores Range and sends everything; store from 0.
    let position = response.status === 206 ? offset : 0;
    if (response.status === 206) {
      const start = /^\s*bytes\s+(\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
      if (start !== undefined && Number(start) !== offset) {
        await response.body?.cancel();
        throw this.unreadable(path, `the server answered range start ${start} for a request at ${offset}`);
      }
    }
    const appender = await this.store.openAppender(this.modelKey, path, position);
    try {
      if (response.body === null) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        await appender.write(bytes);
        position += bytes.length;
        this.downloadedBytes += bytes.length;
      } else {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (position + value.length > size) {
            await reader.cancel();
            throw new ModelFileError({
              path,
              location: this.location,
              problem: 'truncated',
              expectedBytes: size,
              actualBytes: position + value.length,
              message: `Model file "${path}" from ${this.location} is longer than the ${size} bytes the server announced`,
            });
          }
          await appender.write(value);
          position += value.length;
          this.downloadedBytes += value.length;
          this.report(path, position, size, 'network');
        }
      }
    } finally {
      // Closing keeps what arrived, so the next try (or the next page load) continues from it.
      await appender.close();
    }
    this.report(path, position, size, 'network');
    return position;
  }

  private async record(path: string): Promise<CachedFileRecord> {
    const key = modelPathSegments(path).join('/');
    const manifest = await this.manifest();
    const known = manifest.files[key];
    if (known !== undefined) return known;
    let size: number;
    try {
      // One HEAD answers both questions: a missing file fails with problem 'missing'.
      size = await this.remote.size(key);
    } catch (error) {
      if (!(ModelFileError.isInstance(error) && error.problem === 'missing')) throw error;
      await this.setRecord(key, { state: 'missing' });
      return { state: 'missing' };
    }
    const record: CachedFileRecord = { state: 'incomplete', size };
    await this.setRecord(key, record);
    return record;
  }

  private manifest(): Promise<ModelCacheManifest> {
    this.manifestPromise ??= this.store
      .readManifest(this.modelKey)
      .then((stored) => stored ?? { version: 1, modelKey: this.modelKey, files: {}, updatedAt: new Date().toISOString() });
    return this.manifestPromise;
  }

  private async setRecord(path: string, record: CachedFileRecord): Promise<void> {
    const manifest = await this.manifest();
    manifest.files[path] = record;
    manifest.updatedAt = new Date().toISOString();
    // Writes are chained so an older manifest never overwrites a newer one.
    const write = this.manifestWrite.then(() => this.store.writeManifest(manifest));
    this.manifestWrite = write.catch(() => undefined);
    await write;
  }

  private async noteProgress(path: string, size: number): Promise<void> {
    const key = modelPathSegments(path).join('/');
    if (this.progressByPath.has(key)) return;
    const record = await this.record(key);
    const stored = record.state === 'complete' ? size : Math.min(size, (await this.store.readFile(this.modelKey, key))?.size ?? 0);
    this.progressByPath.set(key, { loaded: stored, total: size });
  }

  private report(path: string, loaded: number, total: number, source: 'network' | 'cache'): void {
    this.progressByPath.set(path, { loaded, total });
    if (this.onProgress === undefined) return;
    let overallLoadedBytes = 0;
    let overallTotalBytes = 0;
    for (const entry of this.progressByPath.values()) {
      overallLoadedBytes += entry.loaded;
      overallTotalBytes += entry.total;
    }
    this.onProgress({ path, loadedBytes: loaded, totalBytes: total, source, overallLoadedBytes, overallTotalBytes });
  }

  private unreadable(path: string, reason: string, cause?: unknown): ModelFileError {
    if (Gemma3nError.isInstance(cause)) return cause as ModelFileError;
    const causeText = cause instanceof Error ? `: ${cause.message}` : '';
    return new ModelFileError({
      path,
      location: this.location,
      problem: 'unreadable',
      message: `Model file "${path}" from ${this.location} could not be downloaded: ${reason}${causeText}`,
      cause,
    });
  }
}
