// Test support only (never exported from the package): in-memory stand-ins for OPFS, the Cache
// API and an HTTP model server, with the behaviours the browser cache depends on.
import type { CacheLike, CacheStorageLike } from './cache-api-model-cache-store';
import type { OpfsDirectoryHandle, OpfsFileHandle, OpfsWritableStream } from './opfs-model-cache-store';

function domError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** OPFS semantics that matter here: NotFoundError, and writes that land only on close. */
export class FakeOpfsFile implements OpfsFileHandle {
  readonly kind = 'file' as const;
  bytes = new Uint8Array(0);
  openWritables = 0;
  constructor(readonly name: string) {}

  async getFile(): Promise<Blob> {
    return new Blob([this.bytes.slice()]);
  }

  async createWritable(options: { keepExistingData?: boolean } = {}): Promise<OpfsWritableStream> {
    let swap = options.keepExistingData ? this.bytes.slice() : new Uint8Array(0);
    let position = 0;
    this.openWritables += 1;
    return {
      write: async (data) => {
        if (data instanceof Uint8Array) {
          const end = position + data.length;
          if (end > swap.length) {
            const grown = new Uint8Array(end);
            grown.set(swap);
            swap = grown;
          }
          swap.set(data, position);
          position = end;
        } else {
          const resized = new Uint8Array(data.size);
          resized.set(swap.subarray(0, Math.min(swap.length, data.size)));
          swap = resized;
          if (position > data.size) position = data.size;
        }
      },
      seek: async (offset) => {
        position = offset;
      },
      close: async () => {
        this.bytes = swap;
        this.openWritables -= 1;
      },
    };
  }
}

export class FakeOpfsDirectory implements OpfsDirectoryHandle {
  readonly kind = 'directory' as const;
  readonly entries = new Map<string, FakeOpfsDirectory | FakeOpfsFile>();
  constructor(readonly name = '') {}

  async getDirectoryHandle(name: string, options: { create?: boolean } = {}): Promise<FakeOpfsDirectory> {
    const entry = this.entries.get(name);
    if (entry instanceof FakeOpfsDirectory) return entry;
    if (entry !== undefined) throw domError('TypeMismatchError', `${name} is a file`);
    if (!options.create) throw domError('NotFoundError', `${name} not found`);
    const created = new FakeOpfsDirectory(name);
    this.entries.set(name, created);
    return created;
  }

  async getFileHandle(name: string, options: { create?: boolean } = {}): Promise<FakeOpfsFile> {
    const entry = this.entries.get(name);
    if (entry instanceof FakeOpfsFile) return entry;
    if (entry !== undefined) throw domError('TypeMismatchError', `${name} is a folder`);
    if (!options.create) throw domError('NotFoundError', `${name} not found`);
    const created = new FakeOpfsFile(name);
    this.entries.set(name, created);
    return created;
  }

  async removeEntry(name: string, options: { recursive?: boolean } = {}): Promise<void> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw domError('NotFoundError', `${name} not found`);
    if (entry instanceof FakeOpfsDirectory && entry.entries.size > 0 && !options.recursive) {
      throw domError('InvalidModificationError', `${name} is not empty`);
    }
    this.entries.delete(name);
  }

  async *keys(): AsyncIterable<string> {
    yield* [...this.entries.keys()];
  }

  async *values(): AsyncIterable<FakeOpfsDirectory | FakeOpfsFile> {
    yield* [...this.entries.values()];
  }

  /** The file at a `/`-separated path below this folder, for assertions. */
  find(path: string): FakeOpfsFile | FakeOpfsDirectory | undefined {
    let current: FakeOpfsDirectory | FakeOpfsFile | undefined = this;
    for (const segment of path.split('/')) {
      current = current instanceof FakeOpfsDirectory ? current.entries.get(segment) : undefined;
    }
    return current;
  }
}

/** The Cache API, with entries kept as bytes so each `match` returns a fresh Response. */
export class FakeCacheStorage implements CacheStorageLike {
  readonly caches = new Map<string, Map<string, Uint8Array>>();

  async open(cacheName: string): Promise<CacheLike> {
    let entries = this.caches.get(cacheName);
    if (entries === undefined) {
      entries = new Map();
      this.caches.set(cacheName, entries);
    }
    const store = entries;
    return {
      match: async (request) => {
        const bytes = store.get(request);
        return bytes === undefined ? undefined : new Response(bytes.slice());
      },
      put: async (request, response) => {
        store.set(request, new Uint8Array(await response.arrayBuffer()));
      },
      delete: async (request) => store.delete(request),
      keys: async () => [...store.keys()].map((url) => ({ url })),
    };
  }
}

export interface FakeServerRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

/**
 * A static HTTP server for a model folder as a fetch function: HEAD, `Range: bytes=a-` and
 * `a-b`, 404, bodies in chunks; `interruptNext(path, bytes)` breaks the next body of a file off
 * after that many bytes, as a dropped connection does; `ignoreRange` answers 200 with the whole file.
 */
export function fakeModelServer(files: Record<string, Uint8Array | string>, options: { chunkBytes?: number; ignoreRange?: boolean } = {}) {
  const encoder = new TextEncoder();
  const bytes = new Map(Object.entries(files).map(([path, content]) => [path, typeof content === 'string' ? encoder.encode(content) : content]));
  const requests: FakeServerRequest[] = [];
  const interruptions = new Map<string, number>();
  const chunkBytes = options.chunkBytes ?? 256;
  const baseUrl = 'https://models.test/gemma/';

  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const basePath = new URL(baseUrl).pathname;
    const path = url.pathname.startsWith(basePath) ? decodeURIComponent(url.pathname.slice(basePath.length)) : '';
    const method = init?.method ?? 'GET';
    const range = new Headers(init?.headers).get('range') ?? undefined;
    const file = path === '' ? undefined : bytes.get(path);
    const log = (status: number): void => void requests.push({ method, path, range, status });
    if (file === undefined) {
      log(404);
      return new Response(null, { status: 404 });
    }
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    const match = range === undefined || options.ignoreRange ? null : /^bytes=(\d+)-(\d*)$/.exec(range);
    let end = file.length;
    if (match !== null) {
      start = Number(match[1]);
      end = match[2] === '' ? file.length : Math.min(file.length, Number(match[2]) + 1);
      if (start >= file.length) {
        log(416);
        return new Response(null, { status: 416, headers: { 'content-range': `bytes */${file.length}` } });
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end - 1}/${file.length}`;
    }
    headers['content-length'] = String(end - start);
    log(status);
    if (method === 'HEAD') return new Response(null, { status, headers });
    const body = file.slice(start, end);
    const cutAfter = interruptions.get(path);
    interruptions.delete(path);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (cutAfter !== undefined && sent >= cutAfter) {
          controller.error(new TypeError('network error: connection reset'));
          return;
        }
        const limit = cutAfter === undefined ? body.length : Math.min(body.length, cutAfter);
        const next = body.slice(sent, Math.min(limit, sent + chunkBytes));
        if (next.length === 0) {
          controller.close();
          return;
        }
        sent += next.length;
        controller.enqueue(next);
      },
    });
    return new Response(stream, { status, headers });
  };

  return {
    baseUrl,
    fetch: fetch as typeof globalThis.fetch,
    requests,
    interruptNext: (path: string, afterBytes: number) => interruptions.set(path, afterBytes),
    /** Replaces a file's content (the folder changed on the server). */
    setFile: (path: string, content: Uint8Array) => bytes.set(path, content),
  };
}
