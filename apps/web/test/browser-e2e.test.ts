import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel, offloadPerLayerEmbeddings } from '@gemma3n/convert';
import { Gemma3n } from '@gemma3n/gemma3n/node';
import type { TestRecord } from '../src/test-hooks';
import { launchChromium } from './chromium-launch';
import { encodePng } from './encode-png';
import { encodeWav } from './encode-wav';
import { type ModelTestServer, startModelTestServer } from './model-test-server';

const appFolder = fileURLToPath(new URL('../dist', import.meta.url));
const prompt = 'Tell me about the sea.';
const maxNewTokens = 12;
/** A second chat turn: the first turn's KV cache is kept (on the GPU for WebGPU) and reused. */
const secondPrompt = 'And the land?';
const debug = (text: string): void => {
  if (process.env.GEMMA3N_WEB_DEBUG === '1') console.log(`[e2e ${new Date().toISOString()}] ${text}`);
};

let modelFolder: string;
let modelBytes: number;
let modelFileCount: number;
/** What onnxruntime-node generates greedily for the same model and prompt. */
let reference: { tokenIds: number[]; streamedIds: number[]; text: string };
let secondTurnReference: { tokenIds: number[]; reusedTokens: number };
let server: ModelTestServer;

/** The media prompt: a tiny-multimodal folder, a 96×96 PNG (the tower's size) and a 1 s WAV at 44.1 kHz. */
const mediaPrompt = 'What do you see and hear?';
let mediaFolder: string;
let mediaServer: ModelTestServer;
let mediaFiles: { png: Buffer; wav: Buffer };
let mediaReference: { tokenIds: number[]; streamedIds: number[] };
/** The same, for the image alone with the text (the pasted-image turn). */
let imageReference: { tokenIds: number[]; streamedIds: number[] };

/** The tiny folder with its per-layer table split off (`gemma3n offload-ple`), on a third origin. */
const tableFile = 'onnx/embed_tokens_per_layer.safetensors';
let pleFolder: string;
let pleServer: ModelTestServer;
let pleReference: { tokenIds: number[]; streamedIds: number[] };

async function greedyReference(model: Gemma3n, content: Parameters<ReturnType<Gemma3n['chat']>['stream']>[0]): Promise<{ tokenIds: number[]; streamedIds: number[] }> {
  const stream = model.chat().stream(content, { doSample: false, maxNewTokens });
  const streamedIds: number[] = [];
  for await (const delta of stream) streamedIds.push(delta.tokenId);
  return { tokenIds: (await stream.result).tokenIds, streamedIds };
}

async function folderFiles(folder: string): Promise<{ path: string; bytes: number }[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  return Promise.all(files.map(async (path) => ({ path: relative(folder, path), bytes: (await stat(path)).size })));
}

beforeAll(async () => {
  modelFolder = await mkdtemp(join(tmpdir(), 'gemma3n-web-e2e-'));
  await makeTinyModel(modelFolder, { shape: 'tiny-window-4', seed: 11, overwrite: true });
  const model = await Gemma3n.load(modelFolder);
  const chat = model.chat();
  const stream = chat.stream(prompt, { doSample: false, maxNewTokens });
  const streamedIds: number[] = [];
  for await (const delta of stream) streamedIds.push(delta.tokenId);
  const result = await stream.result;
  reference = { tokenIds: result.tokenIds, streamedIds, text: result.text };
  const second = await chat.send(secondPrompt, { doSample: false, maxNewTokens });
  secondTurnReference = { tokenIds: second.tokenIds, reusedTokens: second.reusedTokens };
  await model.dispose();
  // The text-only load reads these; preprocessor_config.json (media settings) it never asks for.
  const textFiles = /^(config|generation_config|tokenizer|tokenizer_config|processor_config)\.json$|^chat_template\.jinja$|^onnx\/(embed_tokens|decoder_model_merged)\.onnx/;
  const files = (await folderFiles(modelFolder)).filter((file) => textFiles.test(file.path));
  modelBytes = files.reduce((sum, file) => sum + file.bytes, 0);
  modelFileCount = files.length;
  server = await startModelTestServer({ appFolder, modelFolder });

  mediaFolder = await mkdtemp(join(tmpdir(), 'gemma3n-web-e2e-media-'));
  await makeTinyModel(mediaFolder, { shape: 'tiny-multimodal', seed: 3, overwrite: true });
  const width = 96;
  const height = 96;
  const pixels = Uint8Array.from({ length: width * height * 3 }, (_, index) => (index * 7 + Math.floor(index / (width * 3)) * 13) % 256);
  const samples = Float32Array.from({ length: 44_100 }, (_, index) => 0.3 * Math.sin((2 * Math.PI * 440 * index) / 44_100));
  mediaFiles = { png: encodePng({ width, height, data: pixels }), wav: encodeWav(samples, 44_100) };
  const mediaModel = await Gemma3n.load(mediaFolder);
  // The same parts the app sends: image pixels (the browser decodes the PNG to these), the WAV bytes, the text.
  mediaReference = await greedyReference(mediaModel, [
    { type: 'image', image: { width, height, channels: 3, data: pixels } },
    { type: 'audio', audio: new Uint8Array(mediaFiles.wav) },
    { type: 'text', text: mediaPrompt },
  ]);
  imageReference = await greedyReference(mediaModel, [
    { type: 'image', image: { width, height, channels: 3, data: pixels } },
    { type: 'text', text: mediaPrompt },
  ]);
  await mediaModel.dispose();
  mediaServer = await startModelTestServer({ appFolder, modelFolder: mediaFolder });

  pleFolder = await mkdtemp(join(tmpdir(), 'gemma3n-web-e2e-ple-'));
  await cp(modelFolder, pleFolder, { recursive: true });
  await offloadPerLayerEmbeddings(pleFolder);
  const pleModel = await Gemma3n.load(pleFolder, { pleOffload: true });
  pleReference = await greedyReference(pleModel, prompt);
  await pleModel.dispose();
  pleServer = await startModelTestServer({ appFolder, modelFolder: pleFolder });
});

afterAll(async () => {
  await server?.close();
  await mediaServer?.close();
  await pleServer?.close();
  if (modelFolder !== undefined) await rm(modelFolder, { recursive: true, force: true });
  if (mediaFolder !== undefined) await rm(mediaFolder, { recursive: true, force: true });
  if (pleFolder !== undefined) await rm(pleFolder, { recursive: true, force: true });
});

/** page.evaluate has no timeout of its own; a page that stops answering fails the test instead of hanging it. */
async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not return within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function record(page: Page): Promise<TestRecord> {
  return withTimeout('reading the page record', page.evaluate(() => window.__gemma3nTest!.record()));
}

/** Polls the page's record until `done` holds; on timeout, fails with the record and a screenshot path. */
async function waitForRecord(page: Page, done: (record: TestRecord) => boolean, timeoutMs: number, what: string): Promise<TestRecord> {
  const deadline = Date.now() + timeoutMs;
  let nextNote = Date.now() + 30_000;
  for (;;) {
    const current = await record(page);
    if (Date.now() > nextNote) {
      // Slow is fine (SwiftShader), silent is not: say what the page is doing.
      console.log(`still waiting for ${what}: status ${current.status}, ${current.progressEvents} progress events, ${current.generations.at(-1)?.deltas.length ?? 0} deltas`);
      nextNote = Date.now() + 30_000;
    }
    if (done(current)) return current;
    if (Date.now() > deadline) {
      const screenshot = join(tmpdir(), `gemma3n-web-timeout-${Date.now()}.png`);
      await page.screenshot({ path: screenshot }).catch(() => undefined);
      const status = await page.locator('#status').textContent();
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; status "${status}", record ${JSON.stringify(current).slice(0, 2000)}; screenshot ${screenshot}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function waitForStatus(page: Page, timeoutMs: number): Promise<TestRecord> {
  return waitForRecord(page, (current) => current.status === 'ready' || current.status === 'error', timeoutMs, 'the load to end');
}

async function loadModel(page: Page, backend: 'wasm' | 'webgpu', url = server.modelUrl): Promise<TestRecord> {
  await page.waitForFunction(() => window.__gemma3nTest !== undefined);
  debug(`loading on ${backend}`);
  await withTimeout('pressing Load', page.evaluate(({ url, backend }) => window.__gemma3nTest!.load({ url, backend }), { url, backend }));
  // The status leaves 'idle' synchronously on click; then wait for the end of the load.
  const loaded = await waitForStatus(page, Number(process.env.GEMMA3N_WEB_TIMEOUT_MS ?? 240_000));
  expect(loaded.errors).toEqual([]);
  expect(loaded.status).toBe('ready');
  return loaded;
}

async function generate(page: Page, text = prompt): Promise<TestRecord['generations'][number]> {
  const before = (await record(page)).generations.length;
  await withTimeout('pressing Send', page.evaluate(({ text, maxNewTokens }) => window.__gemma3nTest!.send({ text, maxNewTokens, greedy: true }), { text, maxNewTokens }));
  await waitForRecord(
    page,
    (current) => {
      const last = current.generations[before];
      return last !== undefined && (last.result !== undefined || last.error !== undefined);
    },
    240_000,
    'the reply',
  );
  const generation = (await record(page)).generations[before]!;
  expect(generation.error).toBeUndefined();
  return generation;
}

function describeBackend(backend: 'wasm' | 'webgpu'): void {
  describe(`the app in Chromium on ${backend}`, () => {
    let browser: Browser;
    let page: Page;
    const pageLog: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium(backend === 'webgpu');
      // One context for both loads: OPFS persists across a reload within it.
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      page = await context.newPage();
      listen(page);
      await page.goto(`${server.origin}/`);
    });

    function listen(target: Page): void {
      const note = (text: string): void => {
        pageLog.push(text);
        debug(text);
      };
      target.on('console', (message) => note(`[${message.worker() === null ? 'page' : 'worker'} ${message.type()}] ${message.text()}`));
      target.on('pageerror', (error) => note(`[pageerror] ${error.message}`));
      target.on('worker', (worker) => {
        note(`[worker started] ${worker.url()}`);
        worker.on('close', () => note(`[worker closed] ${worker.url()}`));
      });
      target.on('crash', () => note('[page crashed]'));
      target.on('close', () => note('[page closed]'));
    }

    /**
     * A fresh page load of the app in the same browser profile (same origin storage, so the same
     * OPFS): a reload of the page, or the page closed and a new one opened.
     */
    async function reopen(how: 'reload' | 'new-page'): Promise<void> {
      if (how === 'reload') {
        await withTimeout('reloading the page', page.reload());
        return;
      }
      const context = page.context();
      await withTimeout('closing the page', page.close());
      page = await context.newPage();
      listen(page);
      await withTimeout('opening the app', page.goto(`${server.origin}/`));
    }

    afterAll(async () => {
      if (pageLog.length > 0) console.log(`page log (${backend}):\n${pageLog.slice(-40).join('\n')}`);
      await withTimeout('closing the browser', browser?.close() ?? Promise.resolve()).catch((error: unknown) => console.log(String(error)));
    });

    it('downloads the model over HTTP with progress, then streams the greedy tokens onnxruntime-node generates', async () => {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      server.modelRequests.length = 0;
      const started = Date.now();
      const loaded = await loadModel(page, backend);
      const loadMs = Date.now() - started;
      const info = loaded.loaded!;
      expect(info.backend).toBe(backend);
      expect(info.executionProvider).toBe(backend);
      if (backend === 'webgpu') expect(info.adapter?.architecture).toBe('swiftshader');
      else expect(info.wasmThreads).toBeGreaterThanOrEqual(1);
      expect(info.store).toBe('opfs');
      // Everything the text load reads was downloaded, and exactly once.
      expect(info.totalBytes).toBe(modelBytes);
      expect(info.downloadedBytes).toBe(modelBytes);
      const bodies = server.modelRequests.filter((request) => request.method === 'GET' && request.status === 200);
      expect(new Set(bodies.map((request) => request.path)).size).toBe(bodies.length);
      expect(bodies.length).toBe(modelFileCount);
      expect(loaded.lastProgress?.overallLoadedBytes).toBe(modelBytes);
      expect(loaded.lastProgress?.overallTotalBytes).toBe(modelBytes);
      expect(loaded.progressEvents).toBeGreaterThanOrEqual(modelFileCount);

      const generateStarted = Date.now();
      const generation = await generate(page);
      const generateMs = Date.now() - generateStarted;
      expect(generation.deltas.map((delta) => delta.tokenId)).toEqual(reference.streamedIds);
      expect(generation.result!.tokenIds).toEqual(reference.tokenIds);
      expect(generation.result!.text).toBe(reference.text);
      // What the page shows is what streamed.
      const shown = await page.locator('.message.model .text').last().textContent();
      expect(shown).toBe(generation.deltas.map((delta) => delta.text).join(''));
      console.log(
        `${backend}: first load ${loadMs} ms (${info.loadMs} ms in the worker, ${server.modelRequests.length} model requests, ${modelBytes} bytes); ` +
          `${generation.result!.tokenIds.length} tokens in ${generateMs} ms (decode ${generation.result!.decodeTokensPerSecond.toFixed(1)} tok/s, ` +
          `ttft ${generation.result!.ttftMs.toFixed(0)} ms); engine ${JSON.stringify(info.adapter ?? { threads: info.wasmThreads })}`,
      );
      // The full memory read-out (measureUserAgentSpecificMemory, cross-origin isolated pages only).
      await withTimeout('measuring memory', page.evaluate(() => window.__gemma3nTest!.measureMemory()), 120_000);
      const measured = await record(page);
      expect(measured.memoryMeasuring).toBe(false);
      expect(measured.memory!.measuredBytes).toBeGreaterThan(modelBytes);
      console.log(`${backend}: memory ${JSON.stringify(measured.memory)}`);
      debug('screenshot');
      await page.screenshot({ path: join(tmpdir(), `gemma3n-web-${backend}.png`), fullPage: true });
      debug('screenshot taken');
    });

    it('after a page reload, loads from the cache with zero model-file requests and generates the same tokens', async () => {
      await reopen('reload');
      server.modelRequests.length = 0;
      const started = Date.now();
      const loaded = await loadModel(page, backend);
      const loadMs = Date.now() - started;
      expect(server.modelRequests).toEqual([]);
      expect(loaded.loaded!.downloadedBytes).toBe(0);
      expect(loaded.loaded!.totalBytes).toBe(modelBytes);
      expect(loaded.lastProgress?.source).toBe('cache');
      await withTimeout('listing the cache', page.evaluate(() => window.__gemma3nTest!.refreshCacheList()));
      const cache = (await record(page)).cache!;
      expect(cache.store).toBe('opfs');
      expect(cache.models).toEqual([
        expect.objectContaining({ modelKey: server.modelUrl, completeFiles: modelFileCount, incompleteFiles: 0, completeBytes: modelBytes }),
      ]);
      const generation = await generate(page);
      expect(generation.deltas.map((delta) => delta.tokenId)).toEqual(reference.streamedIds);
      expect(generation.result!.tokenIds).toEqual(reference.tokenIds);
      console.log(`${backend}: cached load ${loadMs} ms (${loaded.loaded!.loadMs} ms in the worker), 0 model requests`);
      // The next turn continues the chat from the kept cache, as onnxruntime-node's chat does.
      const next = await generate(page, secondPrompt);
      expect(next.result!.tokenIds).toEqual(secondTurnReference.tokenIds);
      expect(next.result!.reusedTokens).toBe(secondTurnReference.reusedTokens);
      expect(next.result!.reusedTokens).toBeGreaterThan(0);
      console.log(`${backend}: second chat turn: ${next.result!.reusedTokens} tokens reused from the kept cache, promptTokens ${next.result!.promptTokens}`);
    });

    it('in a new page, continues an interrupted download with a Range request after clearing the cache', async () => {
      await withTimeout('clearing the cache', page.evaluate(() => window.__gemma3nTest!.clearCache()));
      await reopen('new-page');
      server.modelRequests.length = 0;
      const cutAt = 100_000;
      server.interruptNext('onnx/decoder_model_merged.onnx_data', cutAt);
      const loaded = await loadModel(page, backend);
      const dataRequests = server.modelRequests.filter((request) => request.path === 'onnx/decoder_model_merged.onnx_data' && request.method === 'GET');
      expect(dataRequests.map((request) => [request.range, request.status])).toEqual([
        [undefined, 200],
        [`bytes=${cutAt}-`, 206],
      ]);
      // Bytes before the cut were kept, not fetched twice.
      expect(loaded.loaded!.downloadedBytes).toBe(modelBytes);
      const generation = await generate(page);
      expect(generation.result!.tokenIds).toEqual(reference.tokenIds);
    });

    it('attaches a PNG and a WAV through the file inputs and streams the greedy tokens onnxruntime-node generates for them', async () => {
      await withTimeout('opening the app', page.goto(`${mediaServer.origin}/`));
      await loadModel(page, backend, mediaServer.modelUrl);
      await page.setInputFiles('#image-input', { name: 'pattern.png', mimeType: 'image/png', buffer: mediaFiles.png });
      await page.setInputFiles('#audio-input', { name: 'tone.wav', mimeType: 'audio/wav', buffer: mediaFiles.wav });
      const attached = await waitForRecord(page, (current) => current.attachments.length === 2, 30_000, 'the two attachments');
      expect(attached.attachments).toEqual(['pattern.png (96×96)', 'tone.wav (1.0 s WAV at 44100 Hz)']);
      mediaServer.modelRequests.length = 0;
      const started = Date.now();
      const generation = await generate(page, mediaPrompt);
      expect(generation.attachments).toHaveLength(2);
      expect(generation.deltas.map((delta) => delta.tokenId)).toEqual(mediaReference.streamedIds);
      expect(generation.result!.tokenIds).toEqual(mediaReference.tokenIds);
      expect(generation.result!.visionEncoderMs).toBeGreaterThan(0);
      expect(generation.result!.audioEncoderMs).toBeGreaterThan(0);
      // The encoders were fetched (and cached) on the first media prompt.
      const encoderPaths = new Set(mediaServer.modelRequests.filter((request) => request.method === 'GET').map((request) => request.path));
      expect([...encoderPaths].filter((path) => /encoder/.test(path)).sort()).toEqual(expect.arrayContaining(['onnx/audio_encoder.onnx', 'onnx/vision_encoder.onnx']));
      const result = generation.result!;
      console.log(
        `${backend}: image + audio prompt (${result.promptTokens} tokens) in ${Date.now() - started} ms, vision encoder ${result.visionEncoderMs!.toFixed(0)} ms, ` +
          `audio encoder ${result.audioEncoderMs!.toFixed(0)} ms, decode ${result.decodeTokensPerSecond.toFixed(1)} tok/s`,
      );
    });

    // The picker path does not depend on the backend either.
    it.runIf(backend === 'wasm')('loads a model folder picked from disk (webkitdirectory input) with no model request, same ids', async () => {
      await withTimeout('opening the app', page.goto(`${server.origin}/`));
      await page.waitForFunction(() => window.__gemma3nTest !== undefined);
      await page.selectOption('#backend', backend);
      server.modelRequests.length = 0;
      await page.setInputFiles('#folder-input', modelFolder);
      const loaded = await waitForStatus(page, Number(process.env.GEMMA3N_WEB_TIMEOUT_MS ?? 240_000));
      expect(loaded.errors).toEqual([]);
      expect(loaded.loaded).toMatchObject({ backend, store: 'picked-folder', downloadedBytes: 0 });
      const generation = await generate(page);
      expect(generation.deltas.map((delta) => delta.tokenId)).toEqual(reference.streamedIds);
      expect(server.modelRequests).toEqual([]);
      console.log(`${backend}: picked folder loaded in ${loaded.loaded!.loadMs} ms`);
    });

    // The capture paths do not depend on the backend; WASM only, to keep the run short.
    it.runIf(backend === 'wasm')('takes a pasted image (same ids as onnxruntime-node), then a camera frame and a microphone recording (fake devices)', async () => {
      await withTimeout('opening the app', page.goto(`${mediaServer.origin}/`));
      await loadModel(page, backend, mediaServer.modelUrl);
      // A paste of an image file into the prompt, as a clipboard with a copied PNG gives it.
      await withTimeout(
        'pasting the image',
        page.evaluate((bytes) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
          document.getElementById('prompt')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
        }, Array.from(mediaFiles.png)),
      );
      await waitForRecord(page, (current) => current.attachments.length === 1, 30_000, 'the pasted image');
      const pasted = await generate(page, mediaPrompt);
      expect(pasted.attachments).toEqual(['pasted.png (96×96)']);
      expect(pasted.deltas.map((delta) => delta.tokenId)).toEqual(imageReference.streamedIds);
      expect(pasted.result!.tokenIds).toEqual(imageReference.tokenIds);

      // The camera button grabs one frame; the record button starts, and pressed again stops, a recording.
      await page.click('#camera');
      await waitForRecord(page, (current) => current.attachments.length === 1, 30_000, 'the camera frame');
      await page.click('#microphone');
      await page.waitForFunction(() => document.getElementById('microphone')!.textContent === 'Stop recording', undefined, { timeout: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await page.click('#microphone');
      const captured = await waitForRecord(page, (current) => current.attachments.length === 2, 30_000, 'the recording');
      expect(captured.attachments[0]).toMatch(/^camera frame \(\d+×\d+\)$/);
      expect(captured.attachments[1]).toMatch(/^recording \(\d+\.\d s at 16 kHz\)$/);
      const generation = await generate(page, 'And now?');
      expect(generation.result!.visionEncoderMs).toBeGreaterThan(0);
      expect(generation.result!.audioEncoderMs).toBeGreaterThan(0);
      expect(generation.result!.tokenIds.length).toBeGreaterThan(0);
      console.log(`${backend}: pasted image, then ${captured.attachments.join(' + ')}: ${generation.result!.promptTokens} prompt tokens, ${generation.result!.reusedTokens} reused`);
    });

    it('with the per-layer table offloaded, reads its rows from OPFS on a sync access handle, also after a reload', async () => {
      await withTimeout('opening the app', page.goto(`${pleServer.origin}/`));
      pleServer.modelRequests.length = 0;
      for (const visit of ['first load', 'after a reload'] as const) {
        if (visit === 'after a reload') {
          // The old page's worker held the handle; the new page's worker must get it again.
          await reopen('reload');
          pleServer.modelRequests.length = 0;
        }
        const loaded = await loadModel(page, backend, pleServer.modelUrl);
        expect(loaded.loaded!.perLayerTable).toMatchObject({ path: tableFile, access: 'sync-access-handle' });
        const fetched = pleServer.modelRequests.filter((request) => request.method === 'GET').map((request) => request.path);
        if (visit === 'first load') {
          // The text-only embed graph and the table replace the full embed graph.
          expect(fetched).toEqual(expect.arrayContaining(['onnx/embed_tokens_text.onnx', tableFile]));
          expect(fetched).not.toContain('onnx/embed_tokens.onnx');
        } else {
          expect(pleServer.modelRequests).toEqual([]);
        }
        const generation = await generate(page);
        expect(generation.deltas.map((delta) => delta.tokenId)).toEqual(pleReference.streamedIds);
        expect(generation.result!.tokenIds).toEqual(pleReference.tokenIds);
        const rows = generation.result!.perLayerTable!;
        expect(rows.access).toBe('sync-access-handle');
        expect(rows.reads).toBeGreaterThan(0);
        console.log(`${backend}: PLE offload, ${visit}: load ${loaded.loaded!.loadMs} ms, ${rows.reads} sync reads, ${rows.bytesRead} bytes of rows, decode ${generation.result!.decodeTokensPerSecond.toFixed(1)} tok/s`);
      }
    });
  });
}

describeBackend('wasm');
describeBackend('webgpu');
