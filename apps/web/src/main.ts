import './styles.css';
import { audioAttachment, captureCameraFrame, imageAttachment, type PendingAttachment, startMicrophoneRecording } from './media/media-attachments';
import { measuredMemoryReading, type MemoryReading, quickMemoryReading } from './memory-readout';
import { ModelClient } from './model-client';
import { installTestHooks, type TestRecord } from './test-hooks';
import { appendMessage, buildAppView } from './ui/app-view';
import { formatBytes, formatMilliseconds, percent } from './ui/format';
import type { BackendChoice, GenerationSummary, LoadedInfo, PleOffloadChoice, RowFileReport, WorkerEvent } from './worker/worker-protocol';

const parameters = new URLSearchParams(location.search);
const view = buildAppView(document.getElementById('app') as HTMLElement, {
  modelUrl: parameters.get('model') ?? new URL('model/', location.href).href,
  webGpuAvailable: 'gpu' in navigator,
});
if (parameters.get('backend') === 'webgpu') view.backendSelect.value = 'webgpu';

const record: TestRecord = { status: 'idle', progressEvents: 0, generations: [], errors: [], attachments: [] };
// onnxruntime-web's .wasm/.mjs files are copied here by vite.config.ts.
const ortBaseUrl = new URL('ort/', document.baseURI).href;
const client = new ModelClient({ onEvent: onWorkerEvent }, ortBaseUrl);
let attachments: PendingAttachment[] = [];
let streamingInto: HTMLElement | undefined;
let generating = false;

function setStatus(state: TestRecord['status'], text: string): void {
  record.status = state;
  view.status.dataset.state = state;
  view.status.textContent = text;
  view.sendButton.disabled = state !== 'ready' || generating;
  view.loadButton.disabled = state === 'loading';
  view.pickFolderButton.disabled = state === 'loading';
}

function onWorkerEvent(event: WorkerEvent): void {
  if (event.type === 'progress') {
    record.progressEvents += 1;
    record.lastProgress = event;
    view.progress.bar.value = percent(event.overallLoadedBytes, event.overallTotalBytes);
    view.progress.label.textContent = `${formatBytes(event.overallLoadedBytes)} / ${formatBytes(event.overallTotalBytes)}`;
    const from = event.source === 'cache' ? 'from cache' : `${percent(event.loadedBytes, event.totalBytes).toFixed(0)}%`;
    view.progress.file.textContent = `${event.path}: ${formatBytes(event.loadedBytes)} of ${formatBytes(event.totalBytes)} (${from})`;
  } else if (event.type === 'stage' && event.stage !== 'ready') {
    setStatus('loading', event.message);
  } else if (event.type === 'delta' && streamingInto !== undefined) {
    streamingInto.textContent += event.text;
    record.generations.at(-1)?.deltas.push({ tokenId: event.tokenId, text: event.text });
    view.transcript.scrollTop = view.transcript.scrollHeight;
  }
}

async function load(source: 'url' | 'folder', files?: File[]): Promise<void> {
  const backend = view.backendSelect.value as BackendChoice;
  const pleOffload = view.pleSelect.value as PleOffloadChoice;
  setStatus('loading', 'Starting…');
  view.progress.bar.value = 0;
  view.progress.label.textContent = '';
  view.progress.file.textContent = '';
  try {
    const info =
      source === 'url'
        ? await client.load({ kind: 'url', baseUrl: view.urlInput.value.trim() }, backend, pleOffload)
        : await client.load({ kind: 'files', name: folderNameOf(files ?? []), files: pickedFiles(files ?? []) }, backend, pleOffload);
    record.loaded = info;
    showLoaded(info);
    void refreshCacheList();
    showMemory();
  } catch (error) {
    record.errors.push(messageOf(error));
    setStatus('error', `Loading failed: ${messageOf(error)}`);
  }
}

function showLoaded(info: LoadedInfo): void {
  const fetched = info.store === 'picked-folder' ? 'read from disk' : info.downloadedBytes === 0 ? `all from the ${info.store} cache` : `${formatBytes(info.downloadedBytes)} downloaded`;
  setStatus('ready', `Ready: ${info.layers} layers, vocabulary ${info.vocabSize}; ${formatBytes(info.totalBytes)} of model files, ${fetched}; loaded in ${formatMilliseconds(info.loadMs)}.`);
  const adapter = info.adapter === undefined ? '' : ` (${[info.adapter.vendor, info.adapter.architecture].filter(Boolean).join(' ') || 'adapter'}${info.adapter.shaderF16 ? ', f16' : ', no f16'})`;
  const threads = info.wasmThreads === undefined ? '' : ` × ${info.wasmThreads} thread${info.wasmThreads === 1 ? '' : 's'}`;
  view.stats.engine.textContent = `${info.executionProvider}${adapter}${threads}`;
  view.stats.rowFiles.textContent = rowFileText(info.perLayerTable);
  view.progress.bar.value = 100;
}

function rowFileText(report: RowFileReport | undefined): string {
  if (report === undefined) return 'in the embed graph';
  const how = report.access === 'sync-access-handle' ? 'OPFS sync access handle' : `Blob reads${report.reason === undefined ? '' : ` (${report.reason})`}`;
  return `${report.path} via ${how}: ${report.reads} reads, ${formatBytes(report.bytesRead)}`;
}

function pickedFiles(files: File[]): { path: string; blob: Blob }[] {
  return files.map((file) => {
    const relative = file.webkitRelativePath || file.name;
    const slash = relative.indexOf('/');
    return { path: slash === -1 ? relative : relative.slice(slash + 1), blob: file };
  });
}

function folderNameOf(files: File[]): string {
  const first = files[0]?.webkitRelativePath ?? '';
  return first.includes('/') ? first.slice(0, first.indexOf('/')) : 'files';
}

async function send(): Promise<void> {
  const text = view.promptInput.value.trim();
  if (text === '' || generating || record.status !== 'ready') return;
  generating = true;
  view.sendButton.disabled = true;
  view.stopButton.disabled = false;
  view.promptInput.value = '';
  const sentAttachments = attachments;
  attachments = [];
  renderAttachments();
  appendMessage(view.transcript, 'user', sentAttachments.length === 0 ? text : `${text}\n[${sentAttachments.map((item) => item.label).join(', ')}]`);
  streamingInto = appendMessage(view.transcript, 'model', '');
  const entry: TestRecord['generations'][number] = { prompt: text, attachments: sentAttachments.map((item) => item.label), deltas: [] };
  record.generations.push(entry);
  const started = performance.now();
  try {
    const { done } = client.generate(
      text,
      sentAttachments.map((item) => item.part),
      { greedy: view.greedyCheckbox.checked, maxNewTokens: Math.max(1, Number(view.maxTokensInput.value) || 64) },
    );
    const result = await done;
    entry.result = result;
    showStats(result, performance.now() - started);
  } catch (error) {
    entry.error = messageOf(error);
    streamingInto.closest('.message')?.remove();
    appendMessage(view.transcript, 'error', messageOf(error));
  } finally {
    generating = false;
    streamingInto = undefined;
    view.stopButton.disabled = true;
    setStatus('ready', view.status.textContent ?? 'Ready');
    showMemory();
  }
}

function showStats(result: GenerationSummary, wallMs: number): void {
  const generated = result.tokenIds.length;
  view.stats.speed.textContent = `${result.decodeTokensPerSecond.toFixed(1)} tok/s decode, ${result.prefillTokensPerSecond.toFixed(0)} tok/s prefill (${generated} tokens in ${formatMilliseconds(wallMs)})`;
  const encoders = [
    result.visionEncoderMs === undefined ? '' : `vision encoder ${formatMilliseconds(result.visionEncoderMs)}`,
    result.audioEncoderMs === undefined ? '' : `audio encoder ${formatMilliseconds(result.audioEncoderMs)}`,
  ].filter(Boolean);
  view.stats.firstToken.textContent = formatMilliseconds(result.ttftMs) + (encoders.length === 0 ? '' : ` (${encoders.join(', ')})`);
  view.stats.rowFiles.textContent = rowFileText(result.perLayerTable);
  for (const warning of result.warnings) appendMessage(view.transcript, 'error', warning);
}

function renderMemory(reading: MemoryReading): void {
  record.memory = reading;
  const parts: string[] = [];
  if (reading.measuredBytes !== undefined) parts.push(`${formatBytes(reading.measuredBytes)} (page + workers, measured)`);
  if (reading.jsHeapUsedBytes !== undefined) parts.push(`${formatBytes(reading.jsHeapUsedBytes)} JS heap`);
  view.stats.memory.textContent = parts.length === 0 ? 'not reported by this browser' : parts.join(', ');
}

/** The cheap figure (performance.memory), shown after every load and reply. */
function showMemory(): void {
  renderMemory({ ...record.memory, ...quickMemoryReading() });
}

/**
 * The full measurement (measureUserAgentSpecificMemory) runs only when asked: it waits for a
 * garbage collection, often 20–40 s, and a page reload while one was pending hung Chromium 156's
 * navigation in the browser test.
 */
async function measureMemory(): Promise<void> {
  if (record.memoryMeasuring) return;
  record.memoryMeasuring = true;
  view.measureMemoryButton.disabled = true;
  view.measureMemoryButton.textContent = 'Measuring…';
  try {
    renderMemory(await measuredMemoryReading());
  } finally {
    record.memoryMeasuring = false;
    view.measureMemoryButton.disabled = false;
    view.measureMemoryButton.textContent = 'Measure';
  }
}

async function refreshCacheList(): Promise<void> {
  try {
    const { store, models } = await client.listCache();
    record.cache = { store, models };
    view.cacheList.replaceChildren(
      ...(models.length === 0
        ? [Object.assign(document.createElement('li'), { textContent: `Nothing cached (${store}).` })]
        : models.map((model) => {
            const item = document.createElement('li');
            const incomplete = model.incompleteFiles > 0 ? `, ${model.incompleteFiles} incomplete` : '';
            item.textContent = `${model.modelKey} — ${model.completeFiles} files, ${formatBytes(model.completeBytes)}${incomplete} (${store})`;
            const remove = Object.assign(document.createElement('button'), { textContent: 'Remove', className: 'small' });
            remove.addEventListener('click', () => void client.clearCache(model.modelKey).then(refreshCacheList));
            item.append(' ', remove);
            return item;
          })),
    );
  } catch (error) {
    view.cacheList.replaceChildren(Object.assign(document.createElement('li'), { textContent: `Cache unavailable: ${messageOf(error)}` }));
  }
}

function renderAttachments(): void {
  record.attachments = attachments.map((item) => item.label);
  view.attachments.replaceChildren(
    ...attachments.map((item, index) => {
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = `${item.part.type === 'image' ? '🖼' : '🔊'} ${item.label}`;
      const remove = Object.assign(document.createElement('button'), { textContent: '×', className: 'small', title: 'Remove' });
      remove.addEventListener('click', () => {
        attachments.splice(index, 1);
        renderAttachments();
      });
      chip.append(remove);
      return chip;
    }),
  );
}

/**
 * Attachments join the message in the order they were attached, however long each takes to
 * decode: the prompt places them in that order, so a PNG decoded after a WAV must still come
 * first. Each starts decoding at once; the queue only orders when they are appended.
 */
let attachQueue: Promise<void> = Promise.resolve();

function attach(make: () => Promise<PendingAttachment>): Promise<void> {
  const made = Promise.resolve().then(make);
  made.catch(() => undefined); // reported in order below, not as an unhandled rejection now
  attachQueue = attachQueue.then(async () => {
    try {
      attachments.push(await made);
      renderAttachments();
    } catch (error) {
      appendMessage(view.transcript, 'error', `Could not attach: ${messageOf(error)}`);
    }
  });
  return attachQueue;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

view.loadButton.addEventListener('click', () => void load('url'));
view.pickFolderButton.addEventListener('click', () => view.folderInput.click());
view.folderInput.addEventListener('change', () => void load('folder', Array.from(view.folderInput.files ?? [])));
view.sendButton.addEventListener('click', () => void send());
view.stopButton.addEventListener('click', () => client.stop());
view.resetButton.addEventListener('click', () => {
  client.resetChat();
  view.transcript.replaceChildren();
});
view.measureMemoryButton.addEventListener('click', () => void measureMemory());
view.clearCacheButton.addEventListener('click', () => void client.clearCache().then(refreshCacheList));
view.promptInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    void send();
  }
});
view.promptInput.addEventListener('paste', (event) => {
  for (const item of Array.from(event.clipboardData?.items ?? [])) {
    const file = item.kind === 'file' && item.type.startsWith('image/') ? item.getAsFile() : null;
    if (file !== null) void attach(() => imageAttachment(file, file.name || 'pasted image'));
  }
});
view.attachImageButton.addEventListener('click', () => view.imageInput.click());
view.imageInput.addEventListener('change', () => {
  for (const file of Array.from(view.imageInput.files ?? [])) void attach(() => imageAttachment(file, file.name));
  view.imageInput.value = '';
});
view.cameraButton.addEventListener('click', () => void attach(async () => imageAttachment(await captureCameraFrame(), 'camera frame')));
view.attachAudioButton.addEventListener('click', () => view.audioInput.click());
view.audioInput.addEventListener('change', () => {
  for (const file of Array.from(view.audioInput.files ?? [])) void attach(() => audioAttachment(file, file.name));
  view.audioInput.value = '';
});
let stopRecording: (() => Promise<Blob>) | undefined;
view.microphoneButton.addEventListener('click', () => {
  if (stopRecording === undefined) {
    void startMicrophoneRecording().then(
      (stop) => {
        stopRecording = stop;
        view.microphoneButton.textContent = 'Stop recording';
      },
      (error: unknown) => appendMessage(view.transcript, 'error', `Microphone: ${messageOf(error)}`),
    );
    return;
  }
  const stop = stopRecording;
  stopRecording = undefined;
  view.microphoneButton.textContent = 'Record';
  void attach(async () => audioAttachment(await stop(), 'recording'));
});

// Ending the worker before the page goes lets the browser free the model's memory (and its OPFS
// handles) at once instead of with the page.
window.addEventListener('pagehide', () => client.terminate());

installTestHooks({ view, record, refreshCacheList, measureMemory, clearCache: () => client.clearCache().then(() => undefined) });
setStatus('idle', 'No model loaded. Enter a model folder URL and press Load, or open a folder from disk.');
void refreshCacheList();
