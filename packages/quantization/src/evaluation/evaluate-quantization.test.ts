import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyModel } from '@gemma3n/convert';
import { Gemma3n } from '@gemma3n/gemma3n/node';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantizeModelFolder } from '../folder/quantize-folder';
import { onnx } from '../onnx/onnx-proto';
import { evaluateQuantization, openTextSessions, type OrtRuntime } from './evaluate-quantization';
import { seededPrompts } from './seeded-prompts';

/**
 * Thresholds (README "Accuracy on the tiny models"): tiny-window-4, seed 1, the 8 seeded
 * prompts of 16 tokens below (128 positions). Measured on this machine:
 *   q4 (block 32, asymmetric, accuracy_level 4): top-1 0.281, mean KL 3.47
 *   q8 (DynamicQuantizeMatMul, int8 tables):      top-1 0.766, mean KL 0.317
 *   fp16 (fp16 weights and compute):              top-1 1.000, mean KL 5.4e-4
 *   q4f16 (q4 with fp16 scales, fp16 compute):    top-1 0.273, mean KL 3.49
 *   an unrelated model (seed 2 vs seed 1):        top-1 0.008, mean KL 12.8
 * The thresholds sit about 10–15 % beyond the measurements (onnxruntime's thread scheduling
 * moves the last digits) and far from the unrelated-model figures, so a broken layout fails.
 */
const runtime = ort as unknown as OrtRuntime;
let root: string;
let fp32Dir: string;
const prompts = seededPrompts({ count: 8, length: 16, vocabulary: 320, seed: 7 });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-eval-quant-'));
  fp32Dir = join(root, 'fp32');
  await makeTinyModel(fp32Dir, { shape: 'tiny-window-4', seed: 1 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('evaluateQuantization on tiny-window-4', () => {
  it('q4 with accuracy_level 0 equals the fp32 graph holding dequantize(quantize(W)): the rewrite adds no error of its own', async () => {
    await quantizeModelFolder(fp32Dir, join(root, 'q4-exact'), { dtype: 'q4', accuracyLevel: 0 });
    await quantizeModelFolder(fp32Dir, join(root, 'q4-emulated'), { dtype: 'q4', emulate: true });
    const result = await evaluateQuantization({ ort: runtime, referenceDir: join(root, 'q4-emulated'), referenceDtype: 'q4', quantizedDir: join(root, 'q4-exact'), prompts });
    expect(result.positions).toBe(128);
    expect(result.topOneAgreement).toBe(1);
    // Measured 2.4e-13: float32 summation order only.
    expect(result.meanKl).toBeLessThan(1e-9);
  });

  it('q4 (defaults) against fp32 stays within the measured bounds', async () => {
    const quantizedDir = join(root, 'q4');
    await quantizeModelFolder(fp32Dir, quantizedDir, { dtype: 'q4' });
    const result = await evaluateQuantization({ ort: runtime, referenceDir: fp32Dir, quantizedDir, prompts });
    expect(result.files.quantized).toEqual(['onnx/embed_tokens_q4.onnx', 'onnx/decoder_model_merged_q4.onnx']);
    expect(result.topOneAgreement).toBeGreaterThanOrEqual(0.22);
    expect(result.meanKl).toBeLessThanOrEqual(4.0);
  });

  it('q8 against fp32 stays within the measured bounds', async () => {
    const quantizedDir = join(root, 'q8');
    await quantizeModelFolder(fp32Dir, quantizedDir, { dtype: 'q8' });
    const result = await evaluateQuantization({ ort: runtime, referenceDir: fp32Dir, quantizedDir, prompts });
    expect(result.topOneAgreement).toBeGreaterThanOrEqual(0.7);
    expect(result.meanKl).toBeLessThanOrEqual(0.36);
  });

  it('fp16 against fp32 stays within the measured bounds, and loads in Gemma3n with dtype fp16', async () => {
    const quantizedDir = join(root, 'fp16');
    await quantizeModelFolder(fp32Dir, quantizedDir, { dtype: 'fp16' });
    const result = await evaluateQuantization({ ort: runtime, referenceDir: fp32Dir, quantizedDir, prompts });
    expect(result.files.quantized).toEqual(['onnx/embed_tokens_fp16.onnx', 'onnx/decoder_model_merged_fp16.onnx']);
    expect(result.topOneAgreement).toBeGreaterThanOrEqual(0.97);
    expect(result.meanKl).toBeLessThanOrEqual(1e-3);
    const model = await Gemma3n.load(quantizedDir, { dtype: 'fp16', node: { intraOpNumThreads: 1 } });
    const generated = await model.generate({ promptIds: [2, 40, 41, 42], temperature: 0, maxNewTokens: 4, stopTokenIds: [] });
    expect(generated.tokenIds).toHaveLength(4);
  });

  it('q4f16 has float16 MatMulNBits / GatherBlockQuantized scales, stays within the measured bounds, and loads in Gemma3n', async () => {
    const quantizedDir = join(root, 'q4f16');
    await quantizeModelFolder(fp32Dir, quantizedDir, { dtype: 'q4f16' });
    expect((await readdir(join(quantizedDir, 'onnx'))).sort()).toEqual(['decoder_model_merged_q4f16.onnx', 'decoder_model_merged_q4f16.onnx_data', 'embed_tokens_q4f16.onnx', 'embed_tokens_q4f16.onnx_data']);
    for (const file of ['embed_tokens_q4f16.onnx', 'decoder_model_merged_q4f16.onnx']) {
      const graph = onnx.ModelProto.decode(await readFile(join(quantizedDir, 'onnx', file))).graph!;
      const types = new Map(graph.initializer!.map((tensor) => [tensor.name, tensor.dataType]));
      const quantizedNodes = graph.node!.filter((node) => node.opType === 'MatMulNBits' || node.opType === 'GatherBlockQuantized');
      expect(quantizedNodes.length).toBeGreaterThan(0);
      for (const node of quantizedNodes) expect(types.get(node.input![2]!)).toBe(10); // float16 scales
    }
    const result = await evaluateQuantization({ ort: runtime, referenceDir: fp32Dir, quantizedDir, prompts });
    expect(result.topOneAgreement).toBeGreaterThanOrEqual(0.22);
    expect(result.meanKl).toBeLessThanOrEqual(4.0);
    const model = await Gemma3n.load(quantizedDir, { dtype: 'q4f16', node: { intraOpNumThreads: 1 } });
    const generated = await model.generate({ promptIds: [2, 40, 41, 42], temperature: 0, maxNewTokens: 4, stopTokenIds: [] });
    expect(generated.tokenIds).toHaveLength(4);
  });

  it('an unrelated model scores far outside those bounds (the metrics can tell)', async () => {
    const otherDir = join(root, 'seed-2');
    await makeTinyModel(otherDir, { shape: 'tiny-window-4', seed: 2 });
    const result = await evaluateQuantization({ ort: runtime, referenceDir: fp32Dir, quantizedDir: otherDir, prompts });
    expect(result.topOneAgreement).toBeLessThan(0.05);
    expect(result.meanKl).toBeGreaterThan(10);
  });

  it('the q4 folder loads in Gemma3n with dtype q4 and its KV-cached greedy decode equals re-scoring the whole sequence', async () => {
    const quantizedDir = join(root, 'q4');
    const model = await Gemma3n.load(quantizedDir, { dtype: 'q4', node: { intraOpNumThreads: 1 } });
    const promptIds = [2, 40, 41, 42, 43, 44];
    const result = await model.generate({ promptIds, temperature: 0, maxNewTokens: 6, stopTokenIds: [] });
    expect(result.tokenIds).toHaveLength(6);
    // Greedy by hand over the same q4 files, no KV cache: the next token is the argmax over text
    // ids (< vocab_size_per_layer_input, as generation masks the multimodal ones) at the last position.
    const sessions = await openTextSessions(runtime, quantizedDir, 'q4');
    try {
      const sequence = [...promptIds];
      for (let step = 0; step < 6; step++) {
        const logits = await sessions.logits(sequence);
        const vocabulary = logits.length / sequence.length;
        const last = logits.subarray((sequence.length - 1) * vocabulary, (sequence.length - 1) * vocabulary + model.config.text.vocabSizePerLayerInput);
        let best = 0;
        for (let id = 1; id < last.length; id++) if (last[id]! > last[best]!) best = id;
        sequence.push(best);
      }
      expect(result.tokenIds).toEqual(sequence.slice(promptIds.length));
    } finally {
      await sessions.release();
    }
  });
});
