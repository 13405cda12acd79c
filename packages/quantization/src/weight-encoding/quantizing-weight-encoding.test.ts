import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import { makeTinyModel, randomCheckpointWeights, tinyShapeConfig, writeTextGraphs } from '@gemma3n/convert';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTextSessions, type OrtRuntime } from '../evaluation/evaluate-quantization';
import { seededPrompts } from '../evaluation/seeded-prompts';
import { quantizeModelFolder } from '../folder/quantize-folder';
import { onnx } from '../onnx/onnx-proto';
import { quantizingWeightEncoding } from './quantizing-weight-encoding';

/**
 * Quantize-on-write must produce the very model that "write fp32, then run the q4 / q8 passes"
 * produces: the same quantized weights (both quantize the same float32 values with the same
 * functions), so through the same kernels the logits agree to float rounding. Anything else —
 * a transposed weight, scales of the wrong row, a missed table — moves them by whole units.
 */
const runtime = ort as unknown as OrtRuntime;
const SHAPE = 'tiny-window-4';
const SEED = 1;
const dtype = { embed_tokens: 'q8', decoder_model_merged: 'q4' };
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-encode-on-write-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function quantizedAfterWriting(profile: 'compat' | 'optimized'): Promise<string> {
  const fp32Dir = join(root, `${profile}-fp32`);
  await makeTinyModel(fp32Dir, { shape: SHAPE, seed: SEED, graphOptions: { graph: profile } });
  const decoderDir = join(root, `${profile}-q4`);
  const embedDir = join(root, `${profile}-q8`);
  await quantizeModelFolder(fp32Dir, decoderDir, { dtype: 'q4', files: ['onnx/decoder_model_merged.onnx'], accuracyLevel: 4 });
  await quantizeModelFolder(fp32Dir, embedDir, { dtype: 'q8', files: ['onnx/embed_tokens.onnx'] });
  for (const file of ['embed_tokens_quantized.onnx', 'embed_tokens_quantized.onnx_data']) {
    await cp(join(embedDir, 'onnx', file), join(decoderDir, 'onnx', file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  return decoderDir;
}

async function quantizedOnWrite(profile: 'compat' | 'optimized', maximumOutputsPerNode?: number): Promise<string> {
  const dir = join(root, `${profile}-on-write${maximumOutputsPerNode ? `-split-${maximumOutputsPerNode}` : ''}`);
  const rawConfig = tinyShapeConfig(SHAPE);
  await writeTextGraphs(parseGemma3nConfig(rawConfig), randomCheckpointWeights(rawConfig, { seed: SEED }), join(dir, 'onnx'), {
    graph: profile,
    weightEncoding: quantizingWeightEncoding({ blockSize: 32, accuracyLevel: 4, maximumOutputsPerNode }),
    fileNames: { embedTokens: 'embed_tokens_quantized.onnx', decoder: 'decoder_model_merged_q4.onnx' },
  });
  await writeFile(join(dir, 'config.json'), JSON.stringify(rawConfig));
  return dir;
}

async function opCounts(file: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const node of onnx.ModelProto.decode(await readFile(file)).graph!.node ?? []) counts[node.opType!] = (counts[node.opType!] ?? 0) + 1;
  return counts;
}

async function worstLogitDifference(leftDir: string, rightDir: string): Promise<{ worst: number; spread: number }> {
  const left = await openTextSessions(runtime, leftDir, dtype);
  const right = await openTextSessions(runtime, rightDir, dtype);
  let worst = 0;
  let spread = 0;
  try {
    for (const prompt of seededPrompts({ count: 3, length: 12, vocabulary: 320, seed: 11 })) {
      const a = await left.logits(prompt);
      const b = await right.logits(prompt);
      expect(a.length).toBe(b.length);
      for (let index = 0; index < a.length; index++) {
        worst = Math.max(worst, Math.abs(a[index]! - b[index]!));
        spread = Math.max(spread, Math.abs(a[index]!));
      }
    }
  } finally {
    await left.release();
    await right.release();
  }
  return { worst, spread };
}

describe('quantizingWeightEncoding', () => {
  for (const profile of ['compat', 'optimized'] as const) {
    it(`${profile}: a model written quantized gives the logits of the fp32 model quantized afterwards`, async () => {
      const onWrite = await quantizedOnWrite(profile);
      const decoderOps = await opCounts(join(onWrite, 'onnx', 'decoder_model_merged_q4.onnx'));
      const embedOps = await opCounts(join(onWrite, 'onnx', 'embed_tokens_quantized.onnx'));
      // Every projection of the 6 layers (7 each) and the lm_head, not just a few.
      expect(decoderOps.MatMulNBits).toBeGreaterThanOrEqual(6 * 7 + 1);
      expect(embedOps.Cast).toBeGreaterThanOrEqual(2);
      const { worst, spread } = await worstLogitDifference(await quantizedAfterWriting(profile), onWrite);
      console.log(`${profile}: worst |Δlogit| ${worst.toExponential(2)} (largest |logit| ${spread.toFixed(2)})`);
      expect(spread).toBeGreaterThan(1);
      expect(worst).toBeLessThan(1e-4);
    }, 120_000);
  }

  it('splits wide weights into column ranges joined by a Concat, with the same logits', async () => {
    const whole = await quantizedOnWrite('optimized');
    const split = await quantizedOnWrite('optimized', 100);
    const ops = await opCounts(join(split, 'onnx', 'decoder_model_merged_q4.onnx'));
    const wholeOps = await opCounts(join(whole, 'onnx', 'decoder_model_merged_q4.onnx'));
    // At least the 320-wide lm_head becomes four MatMulNBits (100, 100, 100, 20 columns) and a Concat.
    expect(ops.MatMulNBits! - wholeOps.MatMulNBits!).toBeGreaterThanOrEqual(3);
    expect((ops.Concat ?? 0) - (wholeOps.Concat ?? 0)).toBeGreaterThanOrEqual(1);
    const { worst, spread } = await worstLogitDifference(whole, split);
    expect(spread).toBeGreaterThan(1);
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);

  it('rejects a block size onnxruntime cannot run', () => {
    expect(() => quantizingWeightEncoding({ blockSize: 24 })).toThrow(/power of two/);
  });
});
