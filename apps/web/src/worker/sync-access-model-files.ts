/// <reference lib="webworker" />
import type { ByteRange, CachedModelFiles, ModelFiles, OpfsModelCacheStore } from '@gemma3n/core';
import { ModelFileError } from '@gemma3n/core';
import type { RowFileReport } from './worker-protocol';

type SyncAccessHandle = { read(buffer: Uint8Array, options: { at: number }): number; getSize(): number; close(): void };
type SyncAccessFileHandle = { createSyncAccessHandle(options?: { mode?: 'read-only' | 'readwrite' | 'readwrite-unsafe' }): Promise<SyncAccessHandle> };

interface OpenedFile {
  handle: SyncAccessHandle | undefined;
  report: RowFileReport;
}

/**
 * The cached model files, with ranged reads of the chosen files (the per-layer embedding table)
 * done on a `FileSystemSyncAccessHandle` in this worker: each token's rows are one synchronous
 * positioned read from OPFS, without a Blob or a promise per read, and the table is never held
 * in memory. The file is downloaded into OPFS whole first (CachedModelFiles), then opened
 * read-only, so another tab of the app can read the same file. Where that fails (a browser
 * without read-only handles while another tab has it open, or no OPFS), reads fall back to the
 * store's Blob slices and the report says why.
 */
export class SyncAccessModelFiles implements ModelFiles {
  readonly location: string;
  private readonly opened = new Map<string, Promise<OpenedFile>>();

  constructor(
    private readonly inner: CachedModelFiles,
    private readonly store: OpfsModelCacheStore,
    private readonly syncPaths: readonly string[],
  ) {
    this.location = inner.location;
  }

  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }

  size(path: string): Promise<number> {
    return this.inner.size(path);
  }

  readJson<T = unknown>(path: string): Promise<T> {
    return this.inner.readJson<T>(path);
  }

  readText(path: string): Promise<string> {
    return this.inner.readText(path);
  }

  async readBytes(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range === undefined || !this.syncPaths.includes(path)) return this.inner.readBytes(path, range);
    const file = await this.open(path);
    if (file.handle === undefined) {
      const bytes = await this.inner.readBytes(path, range);
      file.report.reads += 1;
      file.report.bytesRead += bytes.length;
      return bytes;
    }
    const bytes = new Uint8Array(range.length);
    const read = file.handle.read(bytes, { at: range.offset });
    if (read !== range.length) {
      throw new ModelFileError({
        path,
        location: this.location,
        problem: 'short',
        expectedBytes: range.length,
        actualBytes: read,
        message: `Model file "${path}" in ${this.location}: read ${read} of ${range.length} bytes at ${range.offset} from OPFS (file size ${file.handle.getSize()})`,
      });
    }
    file.report.reads += 1;
    file.report.bytesRead += read;
    return bytes;
  }

  /** What each chosen file has cost so far (files not read yet are absent). */
  async reports(): Promise<RowFileReport[]> {
    const files = await Promise.all(this.opened.values());
    return files.map((file) => ({ ...file.report }));
  }

  /** Releases the handles (needed before the files can be removed); later reads open them again. */
  async close(): Promise<void> {
    const files = await Promise.all(Array.from(this.opened.values(), (opened) => opened.catch(() => undefined)));
    this.opened.clear();
    for (const file of files) file?.handle?.close();
  }

  private open(path: string): Promise<OpenedFile> {
    let opened = this.opened.get(path);
    if (opened === undefined) {
      opened = this.openHandle(path);
      this.opened.set(path, opened);
      opened.catch(() => this.opened.delete(path));
    }
    return opened;
  }

  private async openHandle(path: string): Promise<OpenedFile> {
    // A one-byte read makes CachedModelFiles download the whole file first (or find it stored).
    await this.inner.readBytes(path, { offset: 0, length: 1 });
    const report: RowFileReport = { path, access: 'blob', reads: 0, bytesRead: 0 };
    const fileHandle = (await this.store.storedFileHandle(this.inner.modelKey, path)) as unknown as Partial<SyncAccessFileHandle> | undefined;
    if (typeof fileHandle?.createSyncAccessHandle !== 'function') {
      return { handle: undefined, report: { ...report, reason: 'this browser has no createSyncAccessHandle in workers' } };
    }
    try {
      const handle = await fileHandle.createSyncAccessHandle({ mode: 'read-only' });
      return { handle, report: { ...report, access: 'sync-access-handle' } };
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { handle: undefined, report: { ...report, reason: `createSyncAccessHandle failed (${reason})` } };
    }
  }
}
