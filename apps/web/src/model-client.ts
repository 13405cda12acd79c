import type {
  AttachmentPart,
  BackendChoice,
  CachedModelInfo,
  GenerationSettings,
  GenerationSummary,
  LoadedInfo,
  ModelSourceRequest,
  WorkerEvent,
  WorkerRequest,
} from './worker/worker-protocol';

export interface ModelClientListeners {
  onEvent(event: WorkerEvent): void;
}

/**
 * The page's side of the model worker: sends requests and turns the worker's events into
 * promises for load and generate. A load on another backend starts a fresh worker.
 */
export class ModelClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private pendingLoad: { resolve(info: LoadedInfo): void; reject(error: Error): void } | undefined;
  private readonly pendingGenerations = new Map<number, { resolve(result: GenerationSummary): void; reject(error: Error): void }>();
  private pendingCache: { resolve(value: { store: string; models: CachedModelInfo[] }): void; reject(error: Error): void }[] = [];

  constructor(
    private readonly listeners: ModelClientListeners,
    private readonly ortBaseUrl: string,
  ) {}

  load(source: ModelSourceRequest, backend: BackendChoice): Promise<LoadedInfo> {
    this.replaceWorker();
    return new Promise((resolve, reject) => {
      this.pendingLoad = { resolve, reject };
      this.send({ type: 'load', source, backend, ortBaseUrl: this.ortBaseUrl });
    });
  }

  generate(text: string, attachments: AttachmentPart[], settings: GenerationSettings): { id: number; done: Promise<GenerationSummary> } {
    const id = this.nextId++;
    const done = new Promise<GenerationSummary>((resolve, reject) => {
      this.pendingGenerations.set(id, { resolve, reject });
      this.send({ type: 'generate', id, text, attachments, settings });
    });
    return { id, done };
  }

  /** Ends the worker and whatever it holds (sessions, wasm memory, GPU buffers). */
  terminate(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  stop(): void {
    this.send({ type: 'stop' });
  }

  resetChat(): void {
    this.send({ type: 'reset-chat' });
  }

  listCache(): Promise<{ store: string; models: CachedModelInfo[] }> {
    return this.cacheRequest({ type: 'list-cache' });
  }

  clearCache(modelKey?: string): Promise<{ store: string; models: CachedModelInfo[] }> {
    return this.cacheRequest({ type: 'clear-cache', modelKey });
  }

  private cacheRequest(request: WorkerRequest): Promise<{ store: string; models: CachedModelInfo[] }> {
    return new Promise((resolve, reject) => {
      this.pendingCache.push({ resolve, reject });
      this.send(request);
    });
  }

  private send(request: WorkerRequest): void {
    this.ensureWorker().postMessage(request);
  }

  private ensureWorker(): Worker {
    this.worker ??= this.startWorker();
    return this.worker;
  }

  private replaceWorker(): void {
    // A worker owns one onnxruntime-web runtime (wasm or WebGPU); a new load starts clean.
    this.worker?.terminate();
    this.worker = this.startWorker();
    const stopped = new Error('The model worker was replaced by a new load');
    this.pendingLoad?.reject(stopped);
    for (const pending of this.pendingGenerations.values()) pending.reject(stopped);
    this.pendingGenerations.clear();
  }

  private startWorker(): Worker {
    const worker = new Worker(new URL('./worker/model-worker.ts', import.meta.url), { type: 'module', name: 'gemma3n-model' });
    worker.addEventListener('message', (message: MessageEvent<WorkerEvent>) => this.receive(message.data));
    worker.addEventListener('error', (event) => {
      const error = new Error(`The model worker failed: ${event.message || 'script error'}`);
      this.pendingLoad?.reject(error);
      this.pendingLoad = undefined;
      this.listeners.onEvent({ type: 'error', during: 'load', name: 'WorkerError', message: error.message });
    });
    return worker;
  }

  private receive(event: WorkerEvent): void {
    this.listeners.onEvent(event);
    if (event.type === 'loaded') {
      this.pendingLoad?.resolve(event.info);
      this.pendingLoad = undefined;
    } else if (event.type === 'done') {
      this.pendingGenerations.get(event.id)?.resolve(event.result);
      this.pendingGenerations.delete(event.id);
    } else if (event.type === 'cache-list') {
      this.pendingCache.shift()?.resolve({ store: event.store, models: event.models });
    } else if (event.type === 'error') {
      const error = Object.assign(new Error(event.message), { name: event.name });
      if (event.during === 'load') {
        this.pendingLoad?.reject(error);
        this.pendingLoad = undefined;
      } else if (event.during === 'generate' && event.id !== undefined) {
        this.pendingGenerations.get(event.id)?.reject(error);
        this.pendingGenerations.delete(event.id);
      } else if (event.during === 'cache') {
        this.pendingCache.shift()?.reject(error);
      }
    }
  }
}
