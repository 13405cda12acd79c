/**
 * Resident memory of a full-size per-layer table held by an onnxruntime session vs read from
 * the row file. Not a test (it writes ~4.6 GB); run it by hand, each step in its own process:
 *
 *   npx esbuild packages/convert/src/ple/per-layer-table-memory-bench.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/ple-bench.mjs --external:onnxruntime-node --alias:@gemma3n/core=./packages/core/src/index.ts
 *   cd packages/convert && for step in write ort offload reader reader-http; do node /tmp/ple-bench.mjs $step /tmp/ple-bench; done
 *
 * `write`: an E2B-shaped q8 embed graph, GatherBlockQuantized uint8 bits 8, block 32, over a
 * 262144 × 7680 table (2,013,265,920 data bytes + 251,658,240 of float32 scales), and a small
 * token table. `ort`: RSS after creating its session and after running 512 ids. `offload`:
 * peak RSS while splitting it. `reader`: RSS after opening the row file and reading 512 ids.
 * `reader-http`: the same reads as HTTP Range requests to a local server (the browser path).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import { PerLayerTableReader } from '../../../decoder/src/ple/per-layer-table-reader';
import { offloadPerLayerEmbeddings } from './offload-per-layer-embeddings';

const ROWS = 262144;
const LAYERS = 30;
const LAYER_WIDTH = 256;
const WIDTH = LAYERS * LAYER_WIDTH;
const BLOCK = 32;
const TOKEN_WIDTH = 8;
const IDS = Array.from({ length: 512 }, (_, index) => (index * 7919) % ROWS);

function megabytes(bytes: number): number {
  return Math.round(bytes / 1024 ** 2);
}

/**
 * RSS split as Linux reports it: anonymous pages (heap, engine buffers: what an OOM counts) and
 * file pages (memory-mapped files, which the kernel can drop and re-read under pressure).
 */
function memory(): { rssMiB: number; anonMiB: number; fileMiB: number; heapMiB: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string) => Math.round(Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024);
  const usage = process.memoryUsage();
  return { rssMiB: megabytes(usage.rss), anonMiB: field('RssAnon'), fileMiB: field('RssFile'), heapMiB: megabytes(usage.heapUsed) };
}

async function* repeated(pattern: Uint8Array, total: number): AsyncGenerator<Uint8Array> {
  for (let done = 0; done < total; done += pattern.byteLength) yield pattern.subarray(0, Math.min(pattern.byteLength, total - done));
}

async function writeBigGraph(folder: string): Promise<void> {
  await mkdir(join(folder, 'onnx'), { recursive: true });
  await writeFile(
    join(folder, 'config.json'),
    JSON.stringify({ model_type: 'gemma3n', architectures: ['Gemma3nForConditionalGeneration'], text_config: { model_type: 'gemma3n_text' } }),
  );
  // 64 MiB of varied bytes, repeated: the values do not matter for memory, only that pages are real.
  const pattern = Uint8Array.from({ length: 64 * 1024 * 1024 }, (_, index) => (index * 2654435761) >>> 24);
  const scalePattern = new Float32Array(16 * 1024 * 1024).fill(0.01);
  const blocks = WIDTH / BLOCK;
  await writeOnnxModel(
    { directory: join(folder, 'onnx'), fileName: 'embed_tokens_quantized.onnx', graphName: 'embed_tokens', extraOpsets: [{ domain: 'com.microsoft', version: 1 }] },
    async (graph) => {
      const ids = graph.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
      const tokens = graph.scope('/embed_tokens');
      const tokenTable = await tokens.initializer('weight', 'float32', [ROWS, TOKEN_WIDTH], new Float32Array(ROWS * TOKEN_WIDTH).fill(0.5));
      graph.output(tokens.op('Gather', [tokenTable, ids], { attributes: { axis: 0 } }), 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', TOKEN_WIDTH]);
      const scope = graph.scope('/embed_tokens_per_layer');
      const data = await scope.initializer('Gather_quantized', 'uint8', [ROWS, WIDTH], { byteLength: ROWS * WIDTH, chunks: repeated(pattern, ROWS * WIDTH) });
      const scales = await scope.initializer('scales', 'float32', [ROWS, blocks], {
        byteLength: ROWS * blocks * 4,
        chunks: repeated(new Uint8Array(scalePattern.buffer), ROWS * blocks * 4),
      });
      const rows = scope.op('GatherBlockQuantized', [data, ids, scales], {
        domain: 'com.microsoft',
        attributes: { gather_axis: 0, quantize_axis: 1, block_size: BLOCK, bits: 8 },
      });
      const scaled = scope.op('Mul', [rows, graph.float32(16)], { name: 'Scale' });
      const reshaped = scope.op('Reshape', [scaled, graph.int64([0, 0, LAYERS, LAYER_WIDTH])]);
      graph.output(reshaped, 'per_layer_inputs', 'float32', ['batch_size', 'sequence_length', LAYERS, LAYER_WIDTH]);
    },
  );
}

async function main(): Promise<void> {
  const [step, folder] = process.argv.slice(2);
  if (step === undefined || folder === undefined) throw new Error('usage: ple-bench.mjs write|ort|offload|reader FOLDER');
  const started = performance.now();
  const seconds = () => Number(((performance.now() - started) / 1000).toFixed(2));
  if (step === 'write') {
    await writeBigGraph(folder);
    console.log(JSON.stringify({ step, seconds: seconds() }));
  } else if (step === 'ort') {
    const ort = await import('onnxruntime-node');
    const before = memory();
    const session = await ort.InferenceSession.create(join(folder, 'onnx/embed_tokens_quantized.onnx'), { intraOpNumThreads: 1 });
    const loaded = memory();
    const loadSeconds = seconds();
    await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS, BigInt), [1, IDS.length]) });
    const runStarted = performance.now();
    await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.of(12345n), [1, 1]) });
    const tokenMilliseconds = performance.now() - runStarted;
    console.log(JSON.stringify({ step, before, loaded, afterRun: memory(), loadSeconds, oneTokenMs: Number(tokenMilliseconds.toFixed(3)) }));
  } else if (step === 'offload') {
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const [result] = await offloadPerLayerEmbeddings(folder, { embedFiles: ['onnx/embed_tokens_quantized.onnx'] });
    clearInterval(timer);
    console.log(JSON.stringify({ step, seconds: seconds(), peakRssMiB: megabytes(peak), tableBytes: result!.tableBytes, recordBytes: result!.layout.recordBytes, source: result!.source }));
  } else if (step === 'reader') {
    const { NodeDirectoryModelFiles } = await import('../../../core/src/node/node-directory-model-files');
    const before = memory();
    const reader = await PerLayerTableReader.open(new NodeDirectoryModelFiles(folder), 'onnx/embed_tokens_per_layer_quantized.safetensors');
    const opened = memory();
    const prefillStarted = performance.now();
    await reader.read(IDS);
    const prefillMs = performance.now() - prefillStarted;
    const tokenStarted = performance.now();
    const tokenRuns = 200;
    for (let index = 0; index < tokenRuns; index++) await reader.read([(index * 104729 + 17) % ROWS]);
    const tokenMs = (performance.now() - tokenStarted) / tokenRuns;
    console.log(JSON.stringify({ step, before, opened, afterReads: memory(), prefill512Ms: Number(prefillMs.toFixed(2)), oneTokenMs: Number(tokenMs.toFixed(3)), stats: reader.stats }));
  } else if (step === 'reader-http') {
    // The browser path: the same reads as HTTP Range requests (FetchModelFiles) to a local server.
    const { FetchModelFiles } = await import('../../../core/src/model-files/fetch-model-files');
    const server = await rangeServer(folder);
    let requests = 0;
    const files = new FetchModelFiles({ baseUrl: server.url, fetch: (input, init) => (requests++, fetch(input, init)) });
    const reader = await PerLayerTableReader.open(files, 'onnx/embed_tokens_per_layer_quantized.safetensors');
    const openRequests = requests;
    const prefillStarted = performance.now();
    await reader.read(IDS);
    const prefillMs = performance.now() - prefillStarted;
    const tokenStarted = performance.now();
    for (let index = 0; index < 100; index++) await reader.read([(index * 104729 + 17) % ROWS]);
    const tokenMs = (performance.now() - tokenStarted) / 100;
    server.close();
    console.log(JSON.stringify({ step, openRequests, prefill512Ms: Number(prefillMs.toFixed(1)), oneTokenMs: Number(tokenMs.toFixed(3)), requests, memory: memory() }));
  } else {
    throw new Error(`unknown step ${step}`);
  }
}

/** A static file server honouring `Range: bytes=a-b`, as a CDN or the Hub does. */
async function rangeServer(folder: string): Promise<{ url: string; close(): void }> {
  const { createServer } = await import('node:http');
  const { createReadStream, statSync } = await import('node:fs');
  const server = createServer((request, response) => {
    const path = join(folder, decodeURIComponent((request.url ?? '/').slice(1)));
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      response.writeHead(404).end();
      return;
    }
    const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    if (match === null) {
      response.writeHead(200, { 'content-length': size });
      if (request.method === 'HEAD') response.end();
      else createReadStream(path).pipe(response);
      return;
    }
    const start = Number(match[1]);
    const end = Math.min(Number(match[2]), size - 1);
    response.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
    createReadStream(path, { start, end }).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/`, close: () => server.close() };
}

await main();
