// Quantizes a random-weight tiny Gemma 3n folder to q4 and q8 and compares each with fp32.
// Run after `npx tsup` (in this package and in packages/convert):
//   node examples/quantize-tiny.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyModel } from '@gemma3n/convert';
import * as ort from 'onnxruntime-node';
import { dequantizeMatMulNBits, evaluateQuantization, quantizeMatMulNBits, quantizeModelFolder, seededPrompts } from '../dist/node.js';

// Pure functions: W [K = 4, N = 1], one block of 16 along K (the missing 12 values count as 0).
const weights = Float32Array.from([0.5, -1, 0.25, 0.75]);
const packed = quantizeMatMulNBits(weights, { k: 4, n: 1, layout: 'k-by-n' }, { blockSize: 16, symmetric: true });
console.log(Array.from(packed.data.subarray(0, 2)), Array.from(packed.scales), Array.from(dequantizeMatMulNBits(packed)));

const root = await mkdtemp(join(tmpdir(), 'quantize-example-'));
try {
  const fp32 = join(root, 'fp32');
  await makeTinyModel(fp32, { shape: 'tiny-window-4', seed: 1 });
  const prompts = seededPrompts({ count: 8, length: 16, vocabulary: 320, seed: 7 });
  for (const dtype of ['q4', 'q8']) {
    const result = await quantizeModelFolder(fp32, join(root, dtype), { dtype });
    const decoder = result.sessions.find((session) => session.session === 'decoder_model_merged');
    const evaluation = await evaluateQuantization({ ort, referenceDir: fp32, quantizedDir: join(root, dtype), prompts });
    console.log(
      dtype,
      decoder.outputFile,
      `${decoder.tensors.length} tensors`,
      `${decoder.inputBytes} → ${decoder.outputBytes} bytes`,
      `top-1 ${evaluation.topOneAgreement.toFixed(3)}`,
      `mean KL ${evaluation.meanKl.toFixed(3)}`,
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
