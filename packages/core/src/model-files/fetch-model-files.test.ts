import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../errors/input-error';
import { ModelFileError } from '../errors/model-file-error';
import { FetchModelFiles } from './fetch-model-files';
import type { ModelFileProgressEvent } from './model-files';
import { conformanceFolder, describeModelFilesContract } from './model-files-conformance';

const weights = Uint8Array.from({ length: 1000 }, (_, index) => (index * 13) % 256);
const encoder = new TextEncoder();
const folder: Record<string, Uint8Array> = {
  'config.json': encoder.encode('{"model_type":"gemma3n"}'),
  'broken.json': encoder.encode('{"model_type": '),
  'onnx/embed tokens.onnx_data': weights,
};

interface ServerBehaviour {
  /** Answer ranged GETs with the whole file (200), as some static servers do. */
  ignoreRange?: boolean;
  /** Refuse HEAD with 405. */
  refuseHead?: boolean;
  /** Mark bodies as compressed, so Content-Length is not the file size. */
  compressed?: boolean;
  /** Announce the full length but send only this many bytes of a whole-file GET. */
  truncateTo?: number;
  chunkBytes?: number;
}

interface RecordedRequest {
  method: string;
  url: string;
  range: string | null;
}

function streamOf(bytes: Uint8Array, chunkBytes: number): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream({
    pull(controller) {
      if (position >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(position, position + chunkBytes));
      position += chunkBytes;
    },
  });
}

/** An in-memory static file server behind the fetch signature. */
function fakeFetch(behaviour: ServerBehaviour = {}, served: Record<string, Uint8Array> = folder) {
  const requests: RecordedRequest[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    const range = headers.get('range');
    requests.push({ method, url: url.href, range });
    const path = decodeURIComponent(url.pathname.replace(/^\/models\/e2b\//, ''));
    const file = served[path];
    if (file === undefined) return new Response('Not Found', { status: 404, statusText: 'Not Found' });
    if (method === 'HEAD' && behaviour.refuseHead) return new Response(null, { status: 405 });
    const common: Record<string, string> = behaviour.compressed ? { 'content-encoding': 'br' } : {};
    const chunkBytes = behaviour.chunkBytes ?? 64;
    const match = range === null || behaviour.ignoreRange ? null : /^bytes=(\d+)-(\d+)$/.exec(range);
    if (match !== null) {
      const start = Number(match[1]);
      const end = Math.min(Number(match[2]), file.length - 1);
      if (start >= file.length) {
        return new Response(null, { status: 416, headers: { 'content-range': `bytes */${file.length}` } });
      }
      const part = file.slice(start, end + 1);
      return new Response(method === 'HEAD' ? null : streamOf(part, chunkBytes), {
        status: 206,
        headers: { ...common, 'content-length': String(part.length), 'content-range': `bytes ${start}-${end}/${file.length}` },
      });
    }
    const sent = behaviour.truncateTo === undefined ? file : file.slice(0, behaviour.truncateTo);
    return new Response(method === 'HEAD' ? null : streamOf(sent, chunkBytes), {
      status: 200,
      headers: { ...common, 'content-length': String(file.length) },
    });
  };
  return { fetch, requests };
}

function filesWith(behaviour: ServerBehaviour = {}, onProgress?: (event: ModelFileProgressEvent) => void) {
  const { fetch, requests } = fakeFetch(behaviour);
  const files = new FetchModelFiles({ baseUrl: 'https://models.test/models/e2b', fetch, onProgress, headers: { Authorization: 'Bearer t' } });
  return { files, requests };
}

async function modelFileErrorOf(promise: Promise<unknown>): Promise<ModelFileError> {
  try {
    await promise;
  } catch (error) {
    if (ModelFileError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelFileError, but the promise resolved');
}

const conformanceBytes: Record<string, Uint8Array> = Object.fromEntries(
  Object.entries(conformanceFolder).map(([path, content]) => [path, typeof content === 'string' ? encoder.encode(content) : content]),
);

describe('FetchModelFiles with an injected fetch', () => {
  describe('against a server honouring Range', () => {
    describeModelFilesContract(
      () => new FetchModelFiles({ baseUrl: 'https://models.test/models/e2b/', fetch: fakeFetch({}, conformanceBytes).fetch }),
    );
  });
  describe('against a server ignoring Range and HEAD', () => {
    describeModelFilesContract(
      () =>
        new FetchModelFiles({
          baseUrl: 'https://models.test/models/e2b/',
          fetch: fakeFetch({ ignoreRange: true, refuseHead: true, chunkBytes: 7 }, conformanceBytes).fetch,
        }),
    );
  });

  it('builds URLs under the folder, encoding each segment', () => {
    const { files } = filesWith();
    expect(files.location).toBe('https://models.test/models/e2b/');
    expect(files.url('onnx/embed tokens.onnx_data')).toBe('https://models.test/models/e2b/onnx/embed%20tokens.onnx_data');
    expect(() => files.url('../other/config.json')).toThrow(InputError);
  });

  it('answers exists and size with HEAD', async () => {
    const { files, requests } = filesWith();
    expect(await files.exists('config.json')).toBe(true);
    expect(await files.exists('missing.json')).toBe(false);
    expect(await files.size('onnx/embed tokens.onnx_data')).toBe(1000);
    expect(requests.map((request) => request.method)).toEqual(['HEAD', 'HEAD', 'HEAD']);
  });

  it('falls back to a one-byte ranged GET when HEAD is refused or the length is compressed', async () => {
    const refused = filesWith({ refuseHead: true });
    expect(await refused.files.size('onnx/embed tokens.onnx_data')).toBe(1000);
    expect(refused.requests.map((request) => `${request.method} ${request.range}`)).toEqual(['HEAD null', 'GET bytes=0-0']);
    const compressed = filesWith({ compressed: true });
    expect(await compressed.files.size('onnx/embed tokens.onnx_data')).toBe(1000);
    expect(compressed.requests.map((request) => `${request.method} ${request.range}`)).toEqual(['HEAD null', 'GET bytes=0-0']);
  });

  it('reads a range with an HTTP Range request and sends the configured headers', async () => {
    const { files, requests } = filesWith();
    const bytes = await files.readBytes('onnx/embed tokens.onnx_data', { offset: 100, length: 250 });
    expect(bytes).toEqual(weights.slice(100, 350));
    expect(requests).toEqual([
      { method: 'GET', url: 'https://models.test/models/e2b/onnx/embed%20tokens.onnx_data', range: 'bytes=100-349' },
    ]);
  });

  it('cuts the range out of a 200 answer from a server that ignores Range', async () => {
    const { files } = filesWith({ ignoreRange: true, chunkBytes: 37 });
    expect(await files.readBytes('onnx/embed tokens.onnx_data', { offset: 100, length: 250 })).toEqual(weights.slice(100, 350));
    expect(await files.readBytes('onnx/embed tokens.onnx_data', { offset: 0, length: 1000 })).toEqual(weights);
  });

  it('reports a short ranged read with expected and actual bytes', async () => {
    for (const behaviour of [{}, { ignoreRange: true }]) {
      const { files } = filesWith(behaviour);
      const error = await modelFileErrorOf(files.readBytes('onnx/embed tokens.onnx_data', { offset: 900, length: 200 }));
      expect(error.problem).toBe('short');
      expect(error.expectedBytes).toBe(200);
      expect(error.actualBytes).toBe(100);
      expect(error.message).toContain('reading 200 bytes at offset 900 returned 100 (the file is 1000 bytes)');
    }
    const { files } = filesWith();
    const beyond = await modelFileErrorOf(files.readBytes('onnx/embed tokens.onnx_data', { offset: 5000, length: 1 }));
    expect([beyond.expectedBytes, beyond.actualBytes]).toEqual([1, 0]);
  });

  it('reports a body shorter than its Content-Length as truncated', async () => {
    const { files } = filesWith({ truncateTo: 600 });
    const error = await modelFileErrorOf(files.readBytes('onnx/embed tokens.onnx_data'));
    expect(error.problem).toBe('truncated');
    expect([error.expectedBytes, error.actualBytes]).toEqual([1000, 600]);
  });

  it('reports progress while a body streams', async () => {
    const events: ModelFileProgressEvent[] = [];
    const { files } = filesWith({ chunkBytes: 300 }, (event) => events.push(event));
    expect(await files.readBytes('onnx/embed tokens.onnx_data')).toEqual(weights);
    expect(events).toEqual([300, 600, 900, 1000].map((loadedBytes) => ({
      path: 'onnx/embed tokens.onnx_data',
      loadedBytes,
      totalBytes: 1000,
    })));
  });

  it('names the file and the folder for missing files and invalid JSON', async () => {
    const { files } = filesWith();
    const missing = await modelFileErrorOf(files.readJson('tokenizer.json'));
    expect(missing.problem).toBe('missing');
    expect(missing.message).toBe('Model file "tokenizer.json" in https://models.test/models/e2b/ does not exist');
    expect((await modelFileErrorOf(files.size('tokenizer.json'))).problem).toBe('missing');
    const invalid = await modelFileErrorOf(files.readJson('broken.json'));
    expect(invalid.problem).toBe('invalid-json');
    expect(invalid.path).toBe('broken.json');
    expect(invalid.cause).toBeInstanceOf(SyntaxError);
    expect(await files.readJson('config.json')).toEqual({ model_type: 'gemma3n' });
  });

  it('turns network failures into ModelFileErrors naming the URL', async () => {
    const files = new FetchModelFiles({
      baseUrl: 'https://models.test/e2b/',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const error = await modelFileErrorOf(files.readText('config.json'));
    expect(error.problem).toBe('unreadable');
    expect(error.message).toContain('GET https://models.test/e2b/config.json failed: fetch failed');
  });

  it('rejects a base URL that is not absolute', () => {
    expect(() => new FetchModelFiles({ baseUrl: 'models/e2b' })).toThrow(/baseUrl is "models\/e2b"; expected an absolute URL/);
  });
});

describe('FetchModelFiles against a real HTTP server', () => {
  let server: Server;
  let baseUrl: string;
  const served: RecordedRequest[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = decodeURIComponent((request.url ?? '/').slice(1));
      served.push({ method: request.method ?? '', url: path, range: request.headers.range ?? null });
      const file = path.startsWith('contract/') ? conformanceBytes[path.slice('contract/'.length)] : folder[path];
      if (file === undefined) {
        response.writeHead(404).end('not found');
        return;
      }
      const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
      if (match === null) {
        response.writeHead(200, { 'content-length': file.length }).end(request.method === 'HEAD' ? undefined : file);
        return;
      }
      const start = Number(match[1]);
      const end = Math.min(Number(match[2]), file.length - 1);
      if (start >= file.length) {
        response.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
        return;
      }
      response
        .writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${file.length}` })
        .end(file.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describe('contract', () => {
    describeModelFilesContract(() => new FetchModelFiles({ baseUrl: `${baseUrl}contract/` }));
  });

  it('reads sizes, ranges, whole files and JSON over HTTP', async () => {
    const events: ModelFileProgressEvent[] = [];
    const files = new FetchModelFiles({ baseUrl, onProgress: (event) => events.push(event) });
    expect(await files.size('onnx/embed tokens.onnx_data')).toBe(1000);
    expect(await files.readBytes('onnx/embed tokens.onnx_data', { offset: 998, length: 2 })).toEqual(weights.slice(998));
    expect(await files.readBytes('onnx/embed tokens.onnx_data')).toEqual(weights);
    expect(await files.readJson('config.json')).toEqual({ model_type: 'gemma3n' });
    expect(events.at(-1)).toEqual({ path: 'config.json', loadedBytes: 24, totalBytes: 24 });
    const short = await modelFileErrorOf(files.readBytes('onnx/embed tokens.onnx_data', { offset: 990, length: 20 }));
    expect([short.expectedBytes, short.actualBytes]).toEqual([20, 10]);
    expect((await modelFileErrorOf(files.readBytes('onnx/missing.onnx'))).problem).toBe('missing');
    const rangedRequests = served.filter((request) => request.range !== null && !request.url.startsWith('contract/'));
    expect(rangedRequests.map((request) => request.range)).toEqual([
      'bytes=998-999',
      'bytes=990-1009',
    ]);
  });
});
