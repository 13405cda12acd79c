// Peak memory of the streamed pass: a synthetic model with one MatMul weight [K, N] and one
// Gather table [V, D] in external data, quantized to q4 and q8 while memory is sampled.
// Run after `npx tsup`:  SHAPE=K,N,V,D node --expose-gc scripts/measure-memory.mjs
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { quantizeModelFile } from '../dist/node.js';
const onnx = onnxProto.onnx;
const dir = await mkdtemp(join(tmpdir(), 'qmem-'));
const [K, N, V, D] = (process.env.SHAPE ?? "4096,8192,16384,2048").split(",").map(Number);
const handle = await open(join(dir, 'm.onnx_data'), 'w');
const rows = 256;
let offset = 0;
for (const [r, c] of [[K, N], [V, D]]) {
  for (let first = 0; first < r; first += rows) {
    const chunk = new Float32Array(rows * c);
    for (let i = 0; i < chunk.length; i++) chunk[i] = Math.sin(i * 0.001 + first);
    await handle.write(new Uint8Array(chunk.buffer), 0, chunk.byteLength, offset);
    offset += chunk.byteLength;
  }
}
await handle.close();
const ext = (o, l) => [{ key: 'location', value: 'm.onnx_data' }, { key: 'offset', value: String(o) }, { key: 'length', value: String(l) }];
const graph = {
  name: 'g',
  node: [
    { opType: 'Gather', name: 'g', input: ['T', 'ids'], output: ['x'] },
    { opType: 'MatMul', name: 'm', input: ['x', 'W'], output: ['y'] },
  ],
  initializer: [
    { name: 'W', dataType: 1, dims: [K, N], dataLocation: 1, externalData: ext(0, K * N * 4) },
    { name: 'T', dataType: 1, dims: [V, D], dataLocation: 1, externalData: ext(K * N * 4, V * D * 4) },
  ],
  input: [{ name: 'ids', type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 1 }] } } } }],
  output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: N }] } } } }],
};
await writeFile(join(dir, 'm.onnx'), onnx.ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph }).finish());
for (const dtype of ['q4', 'q8']) {
  global.gc?.();
  const base = process.memoryUsage();
  let peakRss = 0, peakBuffers = 0;
  const timer = setInterval(() => { const m = process.memoryUsage(); peakRss = Math.max(peakRss, m.rss); peakBuffers = Math.max(peakBuffers, m.arrayBuffers + m.heapUsed); }, 5);
  const started = performance.now();
  const out = join(dir, dtype);
  await mkdir(out);
  await quantizeModelFile(join(dir, 'm.onnx'), out, 'm.onnx', { dtype });
  clearInterval(timer);
  console.log(`${dtype}: fp32 weights ${(offset / 2 ** 20).toFixed(0)} MiB; ${((performance.now() - started) / 1000).toFixed(1)} s; peak rss +${((peakRss - base.rss) / 2 ** 20).toFixed(0)} MiB; peak heap+arrayBuffers +${((peakBuffers - base.arrayBuffers - base.heapUsed) / 2 ** 20).toFixed(0)} MiB`);
}
await rm(dir, { recursive: true, force: true });
