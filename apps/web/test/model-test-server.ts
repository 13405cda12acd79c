import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
};

export interface ModelTestServer {
  origin: string;
  /** The model folder URL (ends with `/`). */
  modelUrl: string;
  /** Every request for a path under /model/, in order. */
  modelRequests: { method: string; path: string; range: string | undefined; status: number }[];
  /** Makes the next body of `path` stop after `bytes` bytes (the connection is destroyed). */
  interruptNext(path: string, bytes: number): void;
  close(): Promise<void>;
}

/**
 * Serves the built app at `/` and a model folder at `/model/` on 127.0.0.1 (random port), with
 * COOP/COEP (cross-origin isolation, for wasm threads), HEAD and single-range GET, and a log of
 * the model requests so a test can count them.
 */
export async function startModelTestServer(params: { appFolder: string; modelFolder: string }): Promise<ModelTestServer> {
  const modelRequests: ModelTestServer['modelRequests'] = [];
  const interruptions = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    void serve(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const pathname = decodeURIComponent(url.pathname);
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    response.setHeader('Cache-Control', 'no-store');
    const isModel = pathname.startsWith('/model/');
    const folder = isModel ? params.modelFolder : params.appFolder;
    const relative = isModel ? pathname.slice('/model/'.length) : pathname === '/' ? 'index.html' : pathname.slice(1);
    const file = normalize(join(folder, relative));
    const log = (status: number): void => {
      if (isModel) modelRequests.push({ method: request.method ?? 'GET', path: relative, range: request.headers.range, status });
    };
    if (!file.startsWith(folder + sep)) {
      log(403);
      response.writeHead(403).end();
      return;
    }
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || !info.isFile()) {
      log(404);
      response.writeHead(404).end();
      return;
    }
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('Content-Type', contentTypes[extname(file)] ?? 'application/octet-stream');
    let start = 0;
    let end = info.size - 1;
    let status = 200;
    const range = request.headers.range;
    if (range !== undefined) {
      const match = /^bytes=(\d*)-(\d*)$/.exec(range);
      if (match === null || (match[1] === '' && match[2] === '')) {
        log(416);
        response.writeHead(416, { 'Content-Range': `bytes */${info.size}` }).end();
        return;
      }
      if (match[1] === '') {
        start = Math.max(0, info.size - Number(match[2]));
      } else {
        start = Number(match[1]);
        if (match[2] !== '') end = Math.min(end, Number(match[2]));
      }
      if (start >= info.size || start > end) {
        log(416);
        response.writeHead(416, { 'Content-Range': `bytes */${info.size}` }).end();
        return;
      }
      status = 206;
      response.setHeader('Content-Range', `bytes ${start}-${end}/${info.size}`);
    }
    log(status);
    response.writeHead(status, { 'Content-Length': String(end - start + 1) });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const interruptAfter = isModel ? interruptions.get(relative) : undefined;
    if (interruptAfter !== undefined) {
      interruptions.delete(relative);
      // Send part of the body, then drop the connection: a download broken off mid-file.
      const stream = createReadStream(file, { start, end: Math.min(end, start + interruptAfter - 1) });
      stream.on('end', () => setTimeout(() => response.destroy(), 20));
      stream.pipe(response, { end: false });
      return;
    }
    createReadStream(file, { start, end }).pipe(response);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    modelUrl: `${origin}/model/`,
    modelRequests,
    interruptNext: (path, bytes) => interruptions.set(path, bytes),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
