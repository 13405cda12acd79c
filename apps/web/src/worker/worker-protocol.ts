/** Messages between the page and the model worker. Plain data only: they cross postMessage. */

export type BackendChoice = 'wasm' | 'webgpu';

/**
 * Per-layer embeddings: `on` reads each token's rows from the folder's table file
 * (`embed_tokens_per_layer*.safetensors`, kept in OPFS) instead of holding the table in the
 * embed graph; `auto` does so when the folder has that file and the text-only embed graph.
 */
export type PleOffloadChoice = 'auto' | 'on' | 'off';

/** How a file's rows are read and what it cost so far (see sync-access-model-files.ts). */
export interface RowFileReport {
  path: string;
  access: 'sync-access-handle' | 'blob';
  reason?: string;
  reads: number;
  bytesRead: number;
}

export type ModelSourceRequest =
  | { kind: 'url'; baseUrl: string }
  /** Files the user picked from disk (File objects survive postMessage as references). */
  | { kind: 'files'; name: string; files: { path: string; blob: Blob }[] };

export interface GenerationSettings {
  maxNewTokens: number;
  /** Greedy decoding (argmax); otherwise the model's sampling defaults at `temperature`. */
  greedy: boolean;
  temperature?: number;
}

/**
 * An attachment in a user turn, as the runtime takes it: an encoded image (decoded in the
 * worker by createImageBitmap), and audio either as WAV bytes (read and resampled to 16 kHz by
 * the runtime, exactly as in Node) or as mono samples the page decoded with Web Audio.
 */
export type AttachmentPart =
  | { type: 'image'; name: string; image: Blob }
  | { type: 'audio'; name: string; audio: Uint8Array | { samples: Float32Array; sampleRate: number } };

export type WorkerRequest =
  | { type: 'load'; source: ModelSourceRequest; backend: BackendChoice; pleOffload: PleOffloadChoice; ortBaseUrl: string }
  | { type: 'generate'; id: number; text: string; attachments: AttachmentPart[]; settings: GenerationSettings }
  | { type: 'stop' }
  | { type: 'reset-chat' }
  /** Cache requests carry an id: the reply names it, and the page can send it again to a new worker. */
  | { type: 'list-cache'; id: number }
  | { type: 'clear-cache'; id: number; modelKey?: string };

export interface LoadedInfo {
  backend: BackendChoice;
  /** onnxruntime's execution provider and, for WebGPU, the adapter it got. */
  executionProvider: string;
  adapter?: { vendor: string; architecture: string; description: string; shaderF16: boolean };
  wasmThreads?: number;
  location: string;
  /** `opfs`, `cache-api`, or `picked-folder` when nothing was cached. */
  store: string;
  downloadedBytes: number;
  totalBytes: number;
  loadMs: number;
  vocabSize: number;
  layers: number;
  /** Set when the per-layer table is offloaded: the table file and how its rows are read. */
  perLayerTable?: RowFileReport;
}

export interface CachedModelInfo {
  modelKey: string;
  completeFiles: number;
  incompleteFiles: number;
  completeBytes: number;
}

export interface GenerationSummary {
  text: string;
  tokenIds: number[];
  promptTokens: number;
  reusedTokens: number;
  finishReason: string;
  ttftMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  totalMs: number;
  /** Set when the turn's images / audio were encoded. */
  visionEncoderMs?: number;
  audioEncoderMs?: number;
  /** Input notes from the runtime, e.g. a clip over 30 s cut to its first 30 s. */
  warnings: string[];
  /** With the per-layer table offloaded: its reads so far (this turn included). */
  perLayerTable?: RowFileReport;
}

export type WorkerEvent =
  | { type: 'stage'; stage: 'downloading' | 'creating-sessions' | 'ready'; message: string }
  | {
      type: 'progress';
      path: string;
      loadedBytes: number;
      totalBytes: number;
      overallLoadedBytes: number;
      overallTotalBytes: number;
      source: 'network' | 'cache';
    }
  | { type: 'loaded'; info: LoadedInfo }
  | { type: 'delta'; id: number; tokenId: number; text: string }
  | { type: 'done'; id: number; result: GenerationSummary }
  | { type: 'cache-list'; id: number; store: string; models: CachedModelInfo[] }
  | { type: 'error'; id?: number; during: 'load' | 'generate' | 'cache'; name: string; message: string };
