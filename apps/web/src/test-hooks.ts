import type { MemoryReading } from './memory-readout';
import type { AppView } from './ui/app-view';
import type { CachedModelInfo, GenerationSummary, LoadedInfo, WorkerEvent } from './worker/worker-protocol';

/** What the page did, kept for tests (and the curious, in the console as `__gemma3nTest`). */
export interface TestRecord {
  status: 'idle' | 'loading' | 'ready' | 'error';
  loaded?: LoadedInfo;
  progressEvents: number;
  lastProgress?: Extract<WorkerEvent, { type: 'progress' }>;
  generations: { prompt: string; attachments: string[]; deltas: { tokenId: number; text: string }[]; result?: GenerationSummary; error?: string }[];
  /** Labels of the attachments waiting to go with the next message. */
  attachments: string[];
  errors: string[];
  cache?: { store: string; models: CachedModelInfo[] };
  memory?: MemoryReading;
  /** A full memory measurement is in progress. */
  memoryMeasuring?: boolean;
}

export interface TestHooks {
  /** A snapshot of the record (structured-clone safe). */
  record(): TestRecord;
  /** Fills the model URL and backend and presses Load, as a user would. */
  load(params: { url: string; backend: 'wasm' | 'webgpu'; pleOffload?: 'auto' | 'on' | 'off' }): void;
  /** Types a message with the given settings and presses Send. */
  send(params: { text: string; maxNewTokens: number; greedy: boolean }): void;
  refreshCacheList(): Promise<void>;
  /** Runs the full memory measurement (what the Measure button does). */
  measureMemory(): Promise<void>;
  clearCache(): Promise<void>;
}

declare global {
  interface Window {
    __gemma3nTest?: TestHooks;
  }
}

/**
 * Hooks for the browser test: they drive the same controls a user does and read the same
 * record the UI is drawn from, so the test checks values rather than pixels.
 */
export function installTestHooks(params: {
  view: AppView;
  record: TestRecord;
  refreshCacheList(): Promise<void>;
  measureMemory(): Promise<void>;
  clearCache(): Promise<void>;
}): void {
  const { view, record } = params;
  window.__gemma3nTest = {
    record: () => structuredClone(record),
    load({ url, backend, pleOffload = 'auto' }) {
      view.urlInput.value = url;
      view.backendSelect.value = backend;
      view.pleSelect.value = pleOffload;
      view.loadButton.click();
    },
    send({ text, maxNewTokens, greedy }) {
      view.promptInput.value = text;
      view.maxTokensInput.value = String(maxNewTokens);
      view.greedyCheckbox.checked = greedy;
      view.sendButton.click();
    },
    refreshCacheList: params.refreshCacheList,
    measureMemory: params.measureMemory,
    clearCache: params.clearCache,
  };
}
