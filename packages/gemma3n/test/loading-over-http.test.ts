import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from '@gemma3n/backend-node';
import { Gemma3n as BrowserGemma3n } from '../src/index';
import { Gemma3n } from '../src/node';
import { tinyModelFolder } from './tiny-model-folder';

let server: Server;
let baseUrl: string;
let folder: string;
const requested: string[] = [];

beforeAll(async () => {
  folder = await tinyModelFolder('tiny-window-4', 11);
  // A plain static file server on 127.0.0.1, as a CDN or the Hub would serve the folder.
  server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname).replace(/^\/+/, '');
    requested.push(`${request.method} ${path}`);
    const file = join(folder, path);
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || !info.isFile() || path.includes('..')) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-length': info.size });
    if (request.method === 'HEAD') response.end();
    else createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('loading from a URL', () => {
  it('generates the same tokens as from the directory', async () => {
    const backend = createNodeBackend({ intraOpNumThreads: 1 });
    const overHttp = await BrowserGemma3n.load(baseUrl, { backend });
    const fromDisk = await Gemma3n.load(folder, { backend });
    const request = { messages: [{ role: 'user' as const, content: 'Hello' }], temperature: 0, maxNewTokens: 10, stopTokenIds: [] };
    const expected = await fromDisk.generate(request);
    const actual = await overHttp.generate(request);
    expect(actual.tokenIds).toEqual(expected.tokenIds);
    expect(actual.text).toBe(expected.text);
    // The weights came over HTTP: the graph and its external data were fetched.
    expect(requested).toContain('GET onnx/decoder_model_merged.onnx_data');
    expect(requested).toContain('GET onnx/embed_tokens.onnx');
  });
});
