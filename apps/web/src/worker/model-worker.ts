/// <reference lib="webworker" />
/**
 * The model worker: downloads (or reads from the browser cache) a model folder, opens its
 * sessions on WASM or WebGPU, and streams chat replies. One worker holds one model on one
 * backend; the page starts a new worker to switch, because onnxruntime-web keeps a single
 * runtime per realm.
 */
import {
  type Backend,
  CachedModelFiles,
  clearCachedModels,
  listCachedModels,
  type ModelCacheStore,
  type ModelFiles,
  openBrowserModelCacheStore,
  OpfsModelCacheStore,
  PickedFolderModelFiles,
  UnsupportedError,
} from '@gemma3n/core';
import type { WebGpuAdapterReport } from '@gemma3n/backend-web';
import { type ContentPart, createGemma3n, type Gemma3n, type Gemma3nChat } from '@gemma3n/gemma3n';
import { perLayerOffloadFilePaths, textModelFilePaths } from './model-file-paths';
import { SyncAccessModelFiles } from './sync-access-model-files';
import type { AttachmentPart, BackendChoice, LoadedInfo, PleOffloadChoice, RowFileReport, WorkerEvent, WorkerRequest } from './worker-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let model: Gemma3n | undefined;
let chat: Gemma3nChat | undefined;
let running: AbortController | undefined;
let storePromise: Promise<ModelCacheStore> | undefined;
/** With the per-layer table offloaded to OPFS: the files whose rows are read on a sync access handle. */
let rowFiles: SyncAccessModelFiles | undefined;

/** Load steps on the console with the worker's clock: where a load stopped, when one does. */
const trace = (text: string): void => console.debug(`[gemma3n worker ${performance.now().toFixed(0)} ms] ${text}`);
function post(event: WorkerEvent): void {
  scope.postMessage(event);
}

function store(): Promise<ModelCacheStore> {
  storePromise ??= openBrowserModelCacheStore();
  return storePromise;
}

scope.addEventListener('message', (message: MessageEvent<WorkerRequest>) => {
  void handle(message.data);
});

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'load':
      return guarded('load', undefined, () => load(request));
    case 'generate':
      return guarded('generate', request.id, () => generate(request.id, request.text, request.attachments, request.settings));
    case 'stop':
      running?.abort(new DOMException('Stopped by the user', 'AbortError'));
      return;
    case 'reset-chat':
      chat?.reset();
      return;
    case 'list-cache':
      return guarded('cache', request.id, () => postCacheList(request.id));
    case 'clear-cache':
      return guarded('cache', request.id, async () => {
        // An open sync access handle locks its file against removal; later reads reopen it.
        await rowFiles?.close();
        await clearCachedModels(await store(), request.modelKey);
        await postCacheList(request.id);
      });
  }
}

async function guarded(during: 'load' | 'generate' | 'cache', id: number | undefined, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const text = error instanceof Error ? error.message : String(error);
    post({ type: 'error', id, during, name, message: text });
  }
}

async function postCacheList(id: number): Promise<void> {
  const opened = await store();
  const models = await listCachedModels(opened);
  post({ type: 'cache-list', id, store: opened.kind, models });
}

async function load(request: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  const started = performance.now();
  trace(`load of ${request.source.kind === 'url' ? request.source.baseUrl : request.source.name} on ${request.backend}`);
  await model?.dispose();
  await rowFiles?.close();
  model = undefined;
  chat = undefined;
  rowFiles = undefined;
  let files: ModelFiles;
  let storeName: string;
  let downloaded = (): number => 0;
  let totalBytes = 0;
  let pleOffload: boolean;
  if (request.source.kind === 'url') {
    const opened = await store();
    trace(`store: ${opened.kind}`);
    storeName = opened.kind;
    const cached = new CachedModelFiles({
      baseUrl: request.source.baseUrl,
      store: opened,
      onProgress: (event) => post({ type: 'progress', ...event }),
    });
    post({ type: 'stage', stage: 'downloading', message: `Fetching ${cached.location} (cached in ${opened.kind})` });
    const rawConfig = await cached.readJson<Record<string, unknown>>('config.json');
    pleOffload = await choosePleOffload(request.pleOffload, cached, rawConfig);
    const prefetched = await cached.prefetch(textModelFilePaths(rawConfig, { pleOffload }));
    trace(`model files stored (${cached.downloadedBytes} bytes downloaded)`);
    totalBytes = prefetched.totalBytes;
    downloaded = () => cached.downloadedBytes;
    files = cached;
    if (pleOffload && opened instanceof OpfsModelCacheStore) {
      rowFiles = new SyncAccessModelFiles(cached, opened, [perLayerOffloadFilePaths(rawConfig).tableFile]);
      files = rowFiles;
    }
  } else {
    storeName = 'picked-folder';
    files = new PickedFolderModelFiles(request.source.files, `picked folder "${request.source.name}"`);
    pleOffload = await choosePleOffload(request.pleOffload, files, await files.readJson<Record<string, unknown>>('config.json'));
  }
  post({ type: 'stage', stage: 'creating-sessions', message: `Opening the sessions on ${request.backend}` });
  const { backend, describe } = await makeBackend(request.backend, request.ortBaseUrl);
  trace(`creating the sessions on ${request.backend}${pleOffload ? ', per-layer rows read from the table file' : ''}`);
  const loaded = await createGemma3n({ backend, files, pleOffload });
  trace('sessions created');
  model = loaded;
  chat = loaded.chat();
  const info: LoadedInfo = {
    backend: request.backend,
    ...describe(),
    location: files.location,
    store: storeName,
    downloadedBytes: downloaded(),
    totalBytes,
    loadMs: Math.round(performance.now() - started),
    vocabSize: loaded.config.text.vocabSize,
    layers: loaded.config.text.numHiddenLayers,
    ...(await perLayerTableReport()),
  };
  post({ type: 'stage', stage: 'ready', message: 'Ready' });
  post({ type: 'loaded', info });
}

/** `auto` offloads when the folder has both companion files (`gemma3n offload-ple` writes them for large tables). */
async function choosePleOffload(choice: PleOffloadChoice, files: ModelFiles, rawConfig: Record<string, unknown>): Promise<boolean> {
  if (choice !== 'auto') return choice === 'on';
  const { textEmbedFile, tableFile } = perLayerOffloadFilePaths(rawConfig);
  return (await files.exists(textEmbedFile)) && (await files.exists(tableFile));
}

async function perLayerTableReport(): Promise<{ perLayerTable?: RowFileReport }> {
  const report = (await rowFiles?.reports())?.[0];
  return report === undefined ? {} : { perLayerTable: report };
}

/** Each backend's onnxruntime-web build is a separate chunk, fetched only when chosen. */
async function makeBackend(
  choice: BackendChoice,
  ortBaseUrl: string,
): Promise<{ backend: Backend; describe: () => Pick<LoadedInfo, 'executionProvider' | 'adapter' | 'wasmThreads'> }> {
  if (choice === 'webgpu') {
    const { createWebGpuBackend } = await import('@gemma3n/backend-web');
    // The KV cache stays on the GPU between steps (the package's default).
    const backend = createWebGpuBackend({ wasmPaths: ortBaseUrl });
    if (!(await backend.isAvailable())) {
      throw new UnsupportedError({ feature: 'backend', value: 'webgpu', message: `WebGPU is not available here: ${backend.unavailableReason() ?? 'no adapter'}; choose WASM` });
    }
    return { backend, describe: () => ({ executionProvider: 'webgpu', adapter: adapterFacts(backend.adapter()) }) };
  }
  const { createWasmBackend } = await import('@gemma3n/backend-wasm');
  const backend = createWasmBackend({ wasmPaths: ortBaseUrl });
  return { backend, describe: () => ({ executionProvider: 'wasm', wasmThreads: backend.environment()?.numThreads }) };
}

function adapterFacts(report: WebGpuAdapterReport | undefined): LoadedInfo['adapter'] {
  if (report === undefined) return undefined;
  return { vendor: report.vendor, architecture: report.architecture, description: report.description, shaderF16: report.shaderF16 };
}

async function generate(id: number, text: string, attachments: AttachmentPart[], settings: Extract<WorkerRequest, { type: 'generate' }>['settings']): Promise<void> {
  if (chat === undefined) throw new Error('No model is loaded: load one first');
  running = new AbortController();
  // Media first, then the text, as one user turn; the encoders open on the first media prompt.
  const content: string | ContentPart[] =
    attachments.length === 0
      ? text
      : [...attachments.map((part): ContentPart => (part.type === 'image' ? { type: 'image', image: part.image } : { type: 'audio', audio: part.audio })), { type: 'text', text }];
  try {
    const stream = chat.stream(content, {
      maxNewTokens: settings.maxNewTokens,
      doSample: !settings.greedy,
      ...(settings.temperature === undefined || settings.greedy ? {} : { temperature: settings.temperature }),
      signal: running.signal,
    });
    for await (const delta of stream) post({ type: 'delta', id, tokenId: delta.tokenId, text: delta.text });
    const result = await stream.result;
    post({
      type: 'done',
      id,
      result: {
        text: result.text,
        tokenIds: result.tokenIds,
        promptTokens: result.promptTokens,
        reusedTokens: result.reusedTokens,
        finishReason: result.finishReason,
        ...result.stats,
        warnings: result.warnings.map((warning) => warning.message),
        ...(await perLayerTableReport()),
      },
    });
  } finally {
    running = undefined;
  }
}
