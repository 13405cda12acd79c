import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../../errors/model-file-error';
import { conformanceFolder, describeModelFilesContract } from '../model-files-conformance';
import { CacheApiModelCacheStore } from './cache-api-model-cache-store';
import { CachedModelFiles, type CachedModelProgressEvent } from './cached-model-files';
import { FakeCacheStorage, FakeOpfsDirectory, FakeOpfsFile, fakeModelServer } from './fake-browser-storage';
import { clearCachedModels, listCachedModels } from './model-cache-list';
import type { ModelCacheStore } from './model-cache-store';
import { OpfsModelCacheStore } from './opfs-model-cache-store';

const weights = Uint8Array.from({ length: 5000 }, (_, index) => (index * 31 + 7) % 256);
const folder = {
  'config.json': '{"model_type":"gemma3n"}',
  'tokenizer.json': '{"model":{}}',
  'onnx/model.onnx': Uint8Array.from({ length: 300 }, (_, index) => index % 251),
  'onnx/model.onnx_data': weights,
  'onnx/model.onnx_data_1': Uint8Array.from({ length: 700 }, (_, index) => 255 - (index % 256)),
};
const folderBytes = 24 + 12 + 300 + 5000 + 700;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const stores: [string, () => ModelCacheStore][] = [
  ['OPFS', () => new OpfsModelCacheStore(new FakeOpfsDirectory())],
  ['Cache API', () => new CacheApiModelCacheStore(new FakeCacheStorage())],
];

describe.each(stores)('CachedModelFiles over %s', (_name, makeStore) => {
  describe('ModelFiles contract', () => {
    const server = fakeModelServer(conformanceFolder);
    const store = makeStore();
    describeModelFilesContract(() => new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch }));
  });

  it('downloads every file once, with per-file and overall progress, and a second load makes no request', async () => {
    const server = fakeModelServer(folder, { chunkBytes: 1000 });
    const store = makeStore();
    const events: CachedModelProgressEvent[] = [];
    const first = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch, onProgress: (event) => events.push(event) });
    const prefetched = await first.prefetch(['config.json', 'tokenizer.json', 'generation_config.json', 'onnx/model.onnx']);
    expect(prefetched.files.map((file) => file.path)).toEqual(['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
    expect(prefetched.totalBytes).toBe(folderBytes);
    expect(prefetched.downloadedBytes).toBe(folderBytes);
    // The overall total is the whole list's size from the first event on.
    expect(new Set(events.map((event) => event.overallTotalBytes))).toEqual(new Set([folderBytes]));
    expect(events.at(-1)).toMatchObject({ path: 'onnx/model.onnx_data_1', loadedBytes: 700, totalBytes: 700, overallLoadedBytes: folderBytes });
    // 5000 bytes in 1000-byte chunks: five events with growing counts.
    expect(events.filter((event) => event.path === 'onnx/model.onnx_data').map((event) => event.loadedBytes)).toEqual([1000, 2000, 3000, 4000, 5000, 5000]);
    const bodyRequests = server.requests.filter((request) => request.method === 'GET');
    expect(bodyRequests.map((request) => request.path).sort()).toEqual(Object.keys(folder).sort());
    expect(await first.readBytes('onnx/model.onnx_data')).toEqual(weights);

    const requestsBefore = server.requests.length;
    const cachedEvents: CachedModelProgressEvent[] = [];
    const second = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch, onProgress: (event) => cachedEvents.push(event) });
    await second.prefetch(['config.json', 'tokenizer.json', 'generation_config.json', 'onnx/model.onnx']);
    expect(await second.readJson('config.json')).toEqual({ model_type: 'gemma3n' });
    expect(await second.readBytes('onnx/model.onnx_data', { offset: 4990, length: 10 })).toEqual(weights.slice(4990));
    expect(await second.exists('generation_config.json')).toBe(false);
    expect(await second.size('onnx/model.onnx_data_1')).toBe(700);
    expect(server.requests.length).toBe(requestsBefore);
    expect(second.downloadedBytes).toBe(0);
    expect(cachedEvents.every((event) => event.source === 'cache')).toBe(true);
    expect(cachedEvents.at(-1)?.overallLoadedBytes).toBe(folderBytes);
  });

  it('continues an interrupted download from the last stored byte, in the next load', async () => {
    const server = fakeModelServer(folder, { chunkBytes: 500 });
    const store = makeStore();
    server.interruptNext('onnx/model.onnx_data', 1500);
    const first = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch, attempts: 1 });
    const error = await rejection(first.readBytes('onnx/model.onnx_data'));
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ problem: 'unreadable', expectedBytes: 5000, actualBytes: 1500 });
    expect((error as Error).message).toContain('stopped after 1500 of 5000 bytes');
    expect((await store.readManifest(first.modelKey))?.files['onnx/model.onnx_data']).toEqual({ state: 'incomplete', size: 5000 });
    expect((await listCachedModels(store))[0]).toMatchObject({ completeFiles: 0, incompleteFiles: 1 });

    const second = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch, attempts: 1 });
    expect(await second.readBytes('onnx/model.onnx_data')).toEqual(weights);
    const gets = server.requests.filter((request) => request.method === 'GET' && request.path === 'onnx/model.onnx_data');
    expect(gets.map((request) => [request.range, request.status])).toEqual([
      [undefined, 200],
      ['bytes=1500-', 206],
    ]);
    expect(second.downloadedBytes).toBe(3500);
  });

  it('retries within one read, each try continuing where the last stopped', async () => {
    const server = fakeModelServer(folder, { chunkBytes: 400 });
    const files = new CachedModelFiles({ baseUrl: server.baseUrl, store: makeStore(), fetch: server.fetch });
    server.interruptNext('onnx/model.onnx_data', 800);
    expect(await files.readBytes('onnx/model.onnx_data')).toEqual(weights);
    const ranges = server.requests.filter((request) => request.method === 'GET').map((request) => request.range);
    expect(ranges).toEqual([undefined, 'bytes=800-']);
    expect(files.downloadedBytes).toBe(5000);
  });

  it('starts over when the server ignores Range and sends the whole file', async () => {
    const server = fakeModelServer(folder, { ignoreRange: true });
    const store = makeStore();
    server.interruptNext('onnx/model.onnx_data', 1024);
    await rejection(new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch, attempts: 1 }).readBytes('onnx/model.onnx_data'));
    const files = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch });
    expect(await files.readBytes('onnx/model.onnx_data')).toEqual(weights);
    expect(server.requests.filter((request) => request.method === 'GET').map((request) => [request.range, request.status])).toEqual([
      [undefined, 200],
      ['bytes=1024-', 200],
    ]);
  });

  it('refuses a body longer than the announced size, and keeps nothing of it as complete', async () => {
    const server = fakeModelServer(folder);
    const store = makeStore();
    const files = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch });
    expect(await files.size('onnx/model.onnx_data')).toBe(5000);
    // The file grows on the server between the HEAD and the GET.
    server.setFile('onnx/model.onnx_data', new Uint8Array(6000));
    const error = await rejection(files.readBytes('onnx/model.onnx_data'));
    expect(error).toMatchObject({ problem: 'truncated', expectedBytes: 5000 });
    expect((await store.readManifest(files.modelKey))?.files['onnx/model.onnx_data']).toEqual({ state: 'incomplete', size: 5000 });
  });

  it('downloads again when the store lost a file its manifest calls complete', async () => {
    const server = fakeModelServer(folder);
    const store = makeStore();
    await new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch }).readBytes('tokenizer.json');
    // Keep the manifest, drop the file (as an eviction or a manual delete would).
    const manifest = (await store.readManifest(server.baseUrl))!;
    await store.removeModel(server.baseUrl);
    await store.writeManifest(manifest);
    const files = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch });
    expect(await files.readText('tokenizer.json')).toBe('{"model":{}}');
    expect(server.requests.filter((request) => request.method === 'GET').length).toBe(2);
  });

  it('remembers missing files, lists models and clears them', async () => {
    const server = fakeModelServer(folder);
    const store = makeStore();
    const files = new CachedModelFiles({ baseUrl: server.baseUrl, store, fetch: server.fetch });
    expect(await files.exists('preprocessor_config.json')).toBe(false);
    const missing = await rejection(files.readBytes('preprocessor_config.json'));
    expect(missing).toMatchObject({ problem: 'missing', path: 'preprocessor_config.json' });
    await files.readBytes('config.json');
    await files.readBytes('onnx/model.onnx_data');
    const other = fakeModelServer(folder);
    const otherFiles = new CachedModelFiles({ baseUrl: 'https://models.test/other/', store, fetch: other.fetch });
    // Another folder URL is another cache entry; its requests just fail here (wrong prefix → 404).
    expect(await otherFiles.exists('config.json')).toBe(false);
    const listed = await listCachedModels(store);
    expect(listed.map((model) => model.modelKey).sort()).toEqual(['https://models.test/gemma/', 'https://models.test/other/']);
    expect(listed.find((model) => model.modelKey === server.baseUrl)).toMatchObject({ completeFiles: 2, incompleteFiles: 0, completeBytes: 5024 });
    await clearCachedModels(store, server.baseUrl);
    expect((await listCachedModels(store)).map((model) => model.modelKey)).toEqual(['https://models.test/other/']);
    expect(await store.readFile(server.baseUrl, 'config.json')).toBeUndefined();
    await clearCachedModels(store);
    expect(await listCachedModels(store)).toEqual([]);
  });
});

describe('OpfsModelCacheStore layout', () => {
  it('keeps files under a folder per model and closes every writable', async () => {
    const root = new FakeOpfsDirectory();
    const server = fakeModelServer(folder);
    const files = new CachedModelFiles({ baseUrl: server.baseUrl, store: new OpfsModelCacheStore(root), fetch: server.fetch });
    await files.readBytes('onnx/model.onnx_data');
    const modelFolder = `gemma3n-models/${encodeURIComponent(server.baseUrl)}`;
    const stored = root.find(`${modelFolder}/files/onnx/model.onnx_data`);
    expect(stored).toBeInstanceOf(FakeOpfsFile);
    expect((stored as FakeOpfsFile).bytes).toEqual(weights);
    expect((stored as FakeOpfsFile).openWritables).toBe(0);
    expect(JSON.parse(new TextDecoder().decode((root.find(`${modelFolder}/manifest.json`) as FakeOpfsFile).bytes))).toMatchObject({
      version: 1,
      modelKey: server.baseUrl,
      files: { 'onnx/model.onnx_data': { state: 'complete', size: 5000 } },
    });
  });

  it('an appender at an offset keeps the bytes before it and drops those after it', async () => {
    const store = new OpfsModelCacheStore(new FakeOpfsDirectory());
    const first = await store.openAppender('key', 'a.bin', 0);
    await first.write(Uint8Array.from([1, 2, 3, 4, 5]));
    await first.close();
    const second = await store.openAppender('key', 'a.bin', 2);
    await second.write(Uint8Array.from([9]));
    await second.close();
    expect(new Uint8Array(await (await store.readFile('key', 'a.bin'))!.arrayBuffer())).toEqual(Uint8Array.from([1, 2, 9]));
  });
});
