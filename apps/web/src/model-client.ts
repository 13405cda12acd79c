import type {
  AttachmentPart,
  BackendChoice,
  CachedModelInfo,
  GenerationSettings,
  GenerationSummary,
  LoadedInfo,
  ModelSourceRequest,
  PleOffloadChoice,
  WorkerEvent,
  WorkerRequest,
} from './worker/worker-protocol';

export interface ModelClientListeners {
  onEvent(event: WorkerEvent): void;
}

/** The part of `Worker` the client uses (a test passes a double). */
export interface ModelWorkerLike {
  postMessage(message: WorkerRequest, transfer?: Transferable[]): void;
  terminate(): void;
  addEventListener(type: 'message', listener: (message: MessageEvent<WorkerEvent>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
}

export interface CacheListing {
  store: string;
  models: CachedModelInfo[];
}

type CacheRequest = Extract<WorkerRequest, { type: 'list-cache' | 'clear-cache' }>;

const startModelWorker = (): ModelWorkerLike =>
  new Worker(new URL('./worker/model-worker.ts', import.meta.url), { type: 'module', name: 'gemma3n-model' }) as ModelWorkerLike;

/**
 * The page's side of the model worker: sends requests and turns the worker's events into
 * promises for load, generate and the cache requests. Every load starts a fresh worker.
 *
 * Each reply names its request, and only the current worker's replies count: a cache request
 * still unanswered when a load replaces the worker is sent again to the new one (listing and
 * clearing are safe to repeat), so no caller is left waiting on a worker that is gone.
 */
export class ModelClient {
  private worker: ModelWorkerLike | undefined;
  private nextId = 1;
  private pendingLoad: { resolve(info: LoadedInfo): void; reject(error: Error): void } | undefined;
  private readonly pendingGenerations = new Map<number, { resolve(result: GenerationSummary): void; reject(error: Error): void }>();
  private readonly pendingCache = new Map<number, { request: CacheRequest; resolve(value: CacheListing): void; reject(error: Error): void }>();

  constructor(
    private readonly listeners: ModelClientListeners,
    private readonly ortBaseUrl: string,
    private readonly createWorker: () => ModelWorkerLike = startModelWorker,
  ) {}

  load(source: ModelSourceRequest, backend: BackendChoice, pleOffload: PleOffloadChoice = 'auto'): Promise<LoadedInfo> {
    this.replaceWorker();
    return new Promise((resolve, reject) => {
      this.pendingLoad = { resolve, reject };
      this.send({ type: 'load', source, backend, pleOffload, ortBaseUrl: this.ortBaseUrl });
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

  /** Ends the worker and whatever it holds (sessions, wasm memory, GPU buffers, OPFS handles). */
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

  listCache(): Promise<CacheListing> {
    return this.cacheRequest({ type: 'list-cache', id: this.nextId++ });
  }

  clearCache(modelKey?: string): Promise<CacheListing> {
    return this.cacheRequest({ type: 'clear-cache', id: this.nextId++, modelKey });
  }

  private cacheRequest(request: CacheRequest): Promise<CacheListing> {
    return new Promise((resolve, reject) => {
      this.pendingCache.set(request.id, { request, resolve, reject });
      this.send(request);
    });
  }

  private send(request: WorkerRequest, transfer: Transferable[] = []): void {
    this.ensureWorker().postMessage(request, transfer);
  }

  private ensureWorker(): ModelWorkerLike {
    this.worker ??= this.startWorker();
    return this.worker;
  }

  private replaceWorker(): void {
    // A worker owns one onnxruntime-web runtime (wasm or WebGPU); a new load starts clean.
    this.worker?.terminate();
    this.worker = this.startWorker();
    const stopped = new Error('The model worker was replaced by a new load');
    this.pendingLoad?.reject(stopped);
    this.pendingLoad = undefined;
    for (const pending of this.pendingGenerations.values()) pending.reject(stopped);
    this.pendingGenerations.clear();
    for (const pending of this.pendingCache.values()) this.worker.postMessage(pending.request);
  }

  private startWorker(): ModelWorkerLike {
    const worker = this.createWorker();
    worker.addEventListener('message', (message: MessageEvent<WorkerEvent>) => {
      if (worker === this.worker) this.receive(message.data);
    });
    worker.addEventListener('error', (event: ErrorEvent) => {
      if (worker !== this.worker) return;
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
      this.pendingCache.get(event.id)?.resolve({ store: event.store, models: event.models });
      this.pendingCache.delete(event.id);
    } else if (event.type === 'error') {
      const error = Object.assign(new Error(event.message), { name: event.name });
      if (event.during === 'load') {
        this.pendingLoad?.reject(error);
        this.pendingLoad = undefined;
      } else if (event.during === 'generate' && event.id !== undefined) {
        this.pendingGenerations.get(event.id)?.reject(error);
        this.pendingGenerations.delete(event.id);
      } else if (event.during === 'cache' && event.id !== undefined) {
        this.pendingCache.get(event.id)?.reject(error);
        this.pendingCache.delete(event.id);
      }
    }
  }
}

