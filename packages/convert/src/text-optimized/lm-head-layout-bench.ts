/**
 * The tied lm_head alone at E2B width: h [1, S, 2048] times the token table, as Gemm(transB=1)
 * on the table's own [V, D] layout versus MatMul on a transposed [D, V] copy, through
 * onnxruntime-node (CPU EP), measured in turns. V defaults to 65536 (512 MiB per table at fp32;
 * the released 262400 rows are 2.1 GB). Not a unit test; run from packages/convert with
 *   npx esbuild src/text-optimized/lm-head-layout-bench.ts --bundle --platform=node --format=esm \
 *     --external:onnxruntime-node --outfile=.lm-head-bench.mjs && node .lm-head-bench.mjs [V] [threads]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import { transposedRowBlocks } from '../text/text-graph-context';

const [vocabText = '65536', threadsText = '2'] = process.argv.slice(2);
const vocab = Number(vocabText);
const threads = Number(threadsText);
const hidden = 2048;

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'lm-head-bench-'));
  try {
    const table = new Float32Array(vocab * hidden);
    for (let index = 0; index < table.length; index++) table[index] = Math.sin(index * 0.618) * 0.02;
    await writeOnnxModel({ directory, fileName: 'gemm.onnx' }, async (graph) => {
      const x = graph.input('h', 'float32', ['rows', hidden]);
      const weight = await graph.initializer('table', 'float32', [vocab, hidden], table);
      graph.output(graph.node('Gemm', [x, weight], { attributes: { transB: 1 } })[0]!, 'logits', 'float32', ['rows', vocab]);
    });
    await writeOnnxModel({ directory, fileName: 'matmul.onnx' }, async (graph) => {
      const x = graph.input('h', 'float32', ['rows', hidden]);
      const weight = await graph.initializer('table_transposed', 'float32', [hidden, vocab], { byteLength: vocab * hidden * 4, chunks: transposedRowBlocks(table, vocab, hidden) });
      graph.output(graph.node('MatMul', [x, weight])[0]!, 'logits', 'float32', ['rows', vocab]);
    });
    const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: threads };
    const sessions = {
      'Gemm transB=1 on [V, D]': await ort.InferenceSession.create(join(directory, 'gemm.onnx'), options),
      'MatMul on a [D, V] copy': await ort.InferenceSession.create(join(directory, 'matmul.onnx'), options),
    };
    for (const rows of [1, 16, 128]) {
      const input = new ort.Tensor('float32', Float32Array.from({ length: rows * hidden }, (_, index) => Math.cos(index)), [rows, hidden]);
      const times = new Map<string, number[]>();
      for (let round = 0; round < 12; round++) {
        for (const [label, session] of Object.entries(sessions)) {
          const started = performance.now();
          await session.run({ h: input });
          if (round > 1) times.set(label, [...(times.get(label) ?? []), performance.now() - started]);
        }
      }
      for (const [label, values] of times) {
        const median = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
        console.log(`V ${vocab}, ${rows} row(s), ${threads} threads: ${label.padEnd(24)} ${median.toFixed(2)} ms`);
      }
    }
    for (const session of Object.values(sessions)) await session.release();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
