import { describe, expect, it } from 'vitest';
import type { ByteRange, CachedModelFiles, OpfsModelCacheStore } from '@gemma3n/core';
import { SyncAccessModelFiles } from './sync-access-model-files';

const table = 'onnx/embed_tokens_per_layer.safetensors';
const tableBytes = Uint8Array.from({ length: 64 }, (_, index) => index);

/** The cached files: records every read, serves the table's bytes and a config. */
function fakeCachedFiles(): { files: CachedModelFiles; reads: string[] } {
  const reads: string[] = [];
  const files = {
    location: 'http://127.0.0.1/model/',
    modelKey: 'http://127.0.0.1/model/',
    exists: async () => true,
    size: async () => tableBytes.length,
    readJson: async () => ({}),
    readText: async () => '',
    async readBytes(path: string, range?: ByteRange) {
      reads.push(`${path} ${range === undefined ? 'whole' : `${range.offset}+${range.length}`}`);
      return range === undefined ? tableBytes.slice() : tableBytes.slice(range.offset, range.offset + range.length);
    },
  };
  return { files: files as unknown as CachedModelFiles, reads };
}

/** A store whose file handle gives sync access handles over `tableBytes`, or fails as told. */
function fakeStore(behaviour: { fail?: Error } = {}): { store: OpfsModelCacheStore; handles: { mode: string | undefined; closed: boolean }[] } {
  const handles: { mode: string | undefined; closed: boolean }[] = [];
  const store = {
    async storedFileHandle() {
      return {
        async createSyncAccessHandle(options?: { mode?: string }) {
          if (behaviour.fail !== undefined) throw behaviour.fail;
          const state = { mode: options?.mode, closed: false };
          handles.push(state);
          return {
            read(buffer: Uint8Array, { at }: { at: number }) {
              const part = tableBytes.subarray(at, at + buffer.length);
              buffer.set(part);
              return part.length;
            },
            getSize: () => tableBytes.length,
            close: () => {
              state.closed = true;
            },
          };
        },
      };
    },
  };
  return { store: store as unknown as OpfsModelCacheStore, handles };
}

describe('SyncAccessModelFiles', () => {
  it('reads ranges of the chosen file on one read-only sync access handle, and everything else through the cache', async () => {
    const { files: inner, reads } = fakeCachedFiles();
    const { store, handles } = fakeStore();
    const files = new SyncAccessModelFiles(inner, store, [table]);
    expect(Array.from(await files.readBytes(table, { offset: 10, length: 4 }))).toEqual([10, 11, 12, 13]);
    expect(Array.from(await files.readBytes(table, { offset: 60, length: 4 }))).toEqual([60, 61, 62, 63]);
    await files.readBytes('onnx/decoder_model_merged.onnx');
    // One read through the cache to have the table stored, then only the handle.
    expect(reads).toEqual([`${table} 0+1`, 'onnx/decoder_model_merged.onnx whole']);
    expect(handles).toEqual([{ mode: 'read-only', closed: false }]);
    expect(await files.reports()).toEqual([{ path: table, access: 'sync-access-handle', reads: 2, bytesRead: 8 }]);
    await files.close();
    expect(handles[0]!.closed).toBe(true);
    // After close (e.g. before clearing the cache) the next read opens the file again.
    await files.readBytes(table, { offset: 0, length: 2 });
    expect(handles).toHaveLength(2);
  });

  it('fails a short read with a ModelFileError naming the file and the sizes', async () => {
    const { files: inner } = fakeCachedFiles();
    const files = new SyncAccessModelFiles(inner, fakeStore().store, [table]);
    await expect(files.readBytes(table, { offset: 60, length: 8 })).rejects.toThrow(/read 4 of 8 bytes at 60 from OPFS \(file size 64\)/);
  });

  it('falls back to the cached Blob reads, saying why, when the handle cannot be had', async () => {
    const { files: inner, reads } = fakeCachedFiles();
    const locked = Object.assign(new Error('Access Handles cannot be created if there is another open Access Handle'), { name: 'NoModificationAllowedError' });
    const files = new SyncAccessModelFiles(inner, fakeStore({ fail: locked }).store, [table]);
    expect(Array.from(await files.readBytes(table, { offset: 2, length: 2 }))).toEqual([2, 3]);
    expect(reads).toEqual([`${table} 0+1`, `${table} 2+2`]);
    expect(await files.reports()).toEqual([
      {
        path: table,
        access: 'blob',
        reason: 'createSyncAccessHandle failed (NoModificationAllowedError: Access Handles cannot be created if there is another open Access Handle)',
        reads: 1,
        bytesRead: 2,
      },
    ]);
  });
});
