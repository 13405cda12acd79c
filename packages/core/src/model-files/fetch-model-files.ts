import { Gemma3nError } from '../errors/gemma3n-error';
import { InputError } from '../errors/input-error';
import { ModelFileError } from '../errors/model-file-error';
import type { ByteRange, ModelFileProgressEvent, ModelFiles } from './model-files';
import { checkByteRange, decodeUtf8, modelPathSegments, parseJsonFile, shortReadError } from './model-path';

export interface FetchModelFilesParams {
  /** The folder URL, e.g. `https://huggingface.co/onnx-community/gemma-3n-E2B-it-ONNX/resolve/main/`. */
  baseUrl: string | URL;
  /** Injected fetch (tests, auth wrappers, caches); defaults to the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Extra request headers, e.g. `Authorization` for gated repositories. */
  headers?: Record<string, string>;
  /** Called as each chunk of a body arrives. */
  onProgress?: (event: ModelFileProgressEvent) => void;
}

/**
 * A model folder served over HTTP(S). Browser-safe: ranged reads use `Range` requests, sizes
 * come from `HEAD` (or a one-byte ranged GET when the server gives no usable length), and
 * bodies are streamed so progress can be reported and a known-size body is written straight
 * into one buffer.
 */
export class FetchModelFiles implements ModelFiles {
  readonly location: string;
  private readonly baseUrl: URL;
  private readonly fetchFunction: typeof globalThis.fetch;
  private readonly headers: Record<string, string>;
  private readonly onProgress: ((event: ModelFileProgressEvent) => void) | undefined;

  constructor(params: FetchModelFilesParams) {
    let baseUrl: URL;
    try {
      baseUrl = new URL(params.baseUrl);
    } catch (error) {
      throw new InputError({ field: 'baseUrl', value: String(params.baseUrl), expected: 'an absolute URL', cause: error });
    }
    // Without a trailing slash, relative resolution would replace the folder's last segment.
    if (!baseUrl.pathname.endsWith('/')) baseUrl.pathname += '/';
    this.baseUrl = baseUrl;
    this.location = baseUrl.href;
    const fetchFunction = params.fetch ?? globalThis.fetch;
    if (typeof fetchFunction !== 'function') {
      throw new InputError({ field: 'fetch', value: fetchFunction, expected: 'a fetch function (none is global here)' });
    }
    // Called unbound, a browser's global fetch throws "Illegal invocation".
    this.fetchFunction = params.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = { ...params.headers };
    this.onProgress = params.onProgress;
  }

  /** The URL of a file in the folder. */
  url(path: string): string {
    const encoded = modelPathSegments(path).map(encodeURIComponent).join('/');
    return new URL(encoded, this.baseUrl).href;
  }

  async exists(path: string): Promise<boolean> {
    const response = await this.probe(path);
    return response !== undefined;
  }

  async size(path: string): Promise<number> {
    const response = await this.probe(path);
    if (response === undefined) throw this.missing(path);
    const known = response.method === 'HEAD' ? bodyLength(response.response) : sizeFromRangeAnswer(response.response);
    if (known !== undefined) return known;
    // HEAD gave no usable length (e.g. a compressed body): ask for one byte and read Content-Range.
    const fromRange = response.method === 'HEAD' ? await this.sizeFromRangeProbe(path) : undefined;
    if (fromRange !== undefined) return fromRange;
    throw new ModelFileError({
      path,
      location: this.location,
      problem: 'unreadable',
      message: `Model file "${path}" in ${this.location}: the server reports no size (no Content-Length or Content-Range)`,
    });
  }

  async readBytes(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range === undefined) return this.readWhole(path);
    checkByteRange(range);
    if (range.length === 0) return new Uint8Array(0);
    const last = range.offset + range.length - 1;
    const response = await this.request(path, 'GET', { Range: `bytes=${range.offset}-${last}` });
    if (response.status === 416) {
      const fileSize = totalFromContentRange(response.headers.get('content-range'));
      await response.body?.cancel();
      throw shortReadError({ path, location: this.location, range, actualBytes: 0, fileSize });
    }
    this.checkStatus(path, response);
    if (response.status === 206) {
      const fileSize = totalFromContentRange(response.headers.get('content-range'));
      const start = startFromContentRange(response.headers.get('content-range'));
      if (start !== undefined && start !== range.offset) {
        await response.body?.cancel();
        throw this.unreadable(path, `the server answered range start ${start} for a request at ${range.offset}`);
      }
      const bytes = await this.readBody(path, response, range.length, 0);
      if (bytes.length < range.length) {
        throw shortReadError({ path, location: this.location, range, actualBytes: bytes.length, fileSize });
      }
      return bytes;
    }
    // 200: the server ignored Range and sends the whole file; keep only the requested bytes.
    const bytes = await this.readBody(path, response, range.length, range.offset);
    if (bytes.length < range.length) {
      throw shortReadError({ path, location: this.location, range, actualBytes: bytes.length, fileSize: bodyLength(response) });
    }
    return bytes;
  }

  async readText(path: string): Promise<string> {
    return decodeUtf8(await this.readBytes(path));
  }

  async readJson<T = unknown>(path: string): Promise<T> {
    return parseJsonFile<T>(await this.readText(path), path, this.location);
  }

  private async readWhole(path: string): Promise<Uint8Array> {
    const response = await this.request(path, 'GET');
    this.checkStatus(path, response);
    const announced = bodyLength(response);
    const bytes = await this.readBody(path, response, undefined, 0);
    if (announced !== undefined && bytes.length < announced) {
      throw new ModelFileError({
        path,
        location: this.location,
        problem: 'truncated',
        expectedBytes: announced,
        actualBytes: bytes.length,
      });
    }
    return bytes;
  }

  /**
   * Streams a body. With `limit`, stops after `skip + limit` bytes and returns bytes
   * `[skip, skip + limit)`; the rest of the body is cancelled, never downloaded.
   */
  private async readBody(path: string, response: Response, limit: number | undefined, skip: number): Promise<Uint8Array> {
    const announced = bodyLength(response);
    const wanted = limit ?? (announced === undefined ? undefined : announced - skip);
    const totalBytes = limit === undefined ? announced : Math.min(limit + skip, announced ?? Number.POSITIVE_INFINITY);
    const progressTotal = totalBytes === Number.POSITIVE_INFINITY ? undefined : totalBytes;
    const body = response.body;
    if (body === null) {
      const whole = new Uint8Array(await response.arrayBuffer());
      this.onProgress?.({ path, loadedBytes: whole.length, totalBytes: whole.length });
      return whole.slice(skip, limit === undefined ? undefined : skip + limit);
    }

    // Preallocate when the size is known, so a 2 GB file is never held twice.
    const buffer = wanted !== undefined && wanted >= 0 ? new Uint8Array(wanted) : undefined;
    const chunks: Uint8Array[] = [];
    let filled = 0;
    let loaded = 0;
    const reader = body.getReader();
    try {
      while (limit === undefined || filled < limit) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunkStart = loaded;
        loaded += value.length;
        this.onProgress?.({ path, loadedBytes: loaded, totalBytes: progressTotal });
        // Part of this chunk that lies in [skip, skip + wanted).
        const from = Math.max(0, skip - chunkStart);
        const to = limit === undefined ? value.length : Math.min(value.length, skip + limit - chunkStart);
        if (to <= from) continue;
        const part = value.subarray(from, to);
        if (buffer !== undefined && filled + part.length <= buffer.length) buffer.set(part, filled);
        else chunks.push(part.slice());
        filled += part.length;
      }
    } catch (error) {
      throw this.unreadable(path, `the download failed after ${loaded} bytes`, error);
    } finally {
      if (limit !== undefined && filled >= limit) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
    if (buffer !== undefined && chunks.length === 0) return filled === buffer.length ? buffer : buffer.slice(0, filled);
    // The body outgrew the announced size (or none was announced): join what arrived.
    const joined = new Uint8Array(filled);
    let position = 0;
    if (buffer !== undefined) {
      const head = buffer.subarray(0, filled - chunks.reduce((sum, chunk) => sum + chunk.length, 0));
      joined.set(head, 0);
      position = head.length;
    }
    for (const chunk of chunks) {
      joined.set(chunk, position);
      position += chunk.length;
    }
    return joined;
  }

  /** HEAD, falling back to a one-byte GET for servers that refuse HEAD; undefined when missing. */
  private async probe(path: string): Promise<{ method: 'HEAD' | 'GET'; response: Response } | undefined> {
    const head = await this.request(path, 'HEAD');
    if (isMissingStatus(head.status)) return undefined;
    if (head.ok) return { method: 'HEAD', response: head };
    if (head.status !== 405 && head.status !== 501) this.checkStatus(path, head);
    const get = await this.request(path, 'GET', { Range: 'bytes=0-0' });
    await get.body?.cancel();
    if (isMissingStatus(get.status)) return undefined;
    // 416: the file exists but is empty.
    if (get.status !== 416) this.checkStatus(path, get);
    return { method: 'GET', response: get };
  }

  private async sizeFromRangeProbe(path: string): Promise<number | undefined> {
    const response = await this.request(path, 'GET', { Range: 'bytes=0-0' });
    await response.body?.cancel();
    if (response.status !== 416) this.checkStatus(path, response);
    return sizeFromRangeAnswer(response);
  }

  private async request(path: string, method: 'GET' | 'HEAD', extraHeaders: Record<string, string> = {}): Promise<Response> {
    const url = this.url(path);
    try {
      return await this.fetchFunction(url, { method, headers: { ...this.headers, ...extraHeaders } });
    } catch (error) {
      if (Gemma3nError.isInstance(error)) throw error;
      throw this.unreadable(path, `${method} ${url} failed`, error);
    }
  }

  private checkStatus(path: string, response: Response): void {
    if (response.ok) return;
    void response.body?.cancel().catch(() => undefined);
    if (isMissingStatus(response.status)) throw this.missing(path);
    throw this.unreadable(path, `the server answered HTTP ${response.status} ${response.statusText}`.trim());
  }

  private missing(path: string): ModelFileError {
    return new ModelFileError({ path, location: this.location, problem: 'missing' });
  }

  private unreadable(path: string, reason: string, cause?: unknown): ModelFileError {
    const causeText = cause instanceof Error ? `: ${cause.message}` : '';
    return new ModelFileError({
      path,
      location: this.location,
      problem: 'unreadable',
      message: `Model file "${path}" in ${this.location} could not be read: ${reason}${causeText}`,
      cause,
    });
  }
}

/** The file size from the answer to `Range: bytes=0-0`: Content-Range for 206/416, else the body length. */
function sizeFromRangeAnswer(response: Response): number | undefined {
  if (response.status === 206 || response.status === 416) {
    return totalFromContentRange(response.headers.get('content-range'));
  }
  return bodyLength(response);
}

function isMissingStatus(status: number): boolean {
  return status === 404 || status === 410;
}

/** The body length in bytes, when Content-Length gives it (not for compressed bodies). */
function bodyLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  // A compressed body's Content-Length counts compressed bytes, not the file's.
  if (encoding !== null && encoding.toLowerCase() !== 'identity') return undefined;
  const header = response.headers.get('content-length');
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

// `bytes 0-0/12345` (206) or `bytes */12345` (416) → the file size 12345.
function totalFromContentRange(header: string | null): number | undefined {
  const match = header === null ? null : /\/\s*(\d+)\s*$/.exec(header);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function startFromContentRange(header: string | null): number | undefined {
  const match = header === null ? null : /^\s*bytes\s+(\d+)-/.exec(header);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
