import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceVisionEncoder, referenceVisionFeatures } from '../../../reference/src/vision/reference-vision-encoder';
import { featureMap } from '../../../reference/src/vision/feature-map';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { RandomNumberGenerator } from '../checkpoint/random-number-generator';
import { tinyShapeConfig } from '../checkpoint/tiny-text-shapes';
import { InMemoryTensorSource } from '../tensor-source';
import { visionArchitectureFromConfig } from './mobilenet-v5-architecture';
import { resolveVisionTower } from './mobilenet-v5-layout';
import { randomVisionTowerWeights, TINY_VISION_ARCHITECTURE, withVisionArchitecture } from './random-vision-weights';
import { writeVisionEncoderGraph } from './vision-encoder-graph';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'vision-encoder-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function tinyModel(architecture: Record<string, unknown>, seed: number) {
  const raw = withVisionArchitecture(tinyShapeConfig('tiny-mha-every-5'), architecture);
  const config = parseGemma3nConfig(raw);
  const visionArchitecture = visionArchitectureFromConfig(config.vision!);
  const weights = randomCheckpointWeights(raw, { seed });
  randomVisionTowerWeights(visionArchitecture, { seed, target: weights });
  return { config, architecture: visionArchitecture, weights };
}

function randomPixels(count: number, seed: number): Float32Array {
  const random = new RandomNumberGenerator(seed);
  return Float32Array.from({ length: count }, () => random.uniform());
}

/** max |a − b| / max |b|: the relative error figure the issue asks for (≤ 1e-4). */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let difference = 0;
  let magnitude = 0;
  for (let index = 0; index < expected.length; index++) {
    difference = Math.max(difference, Math.abs(actual[index]! - expected[index]!));
    magnitude = Math.max(magnitude, Math.abs(expected[index]!));
  }
  return difference / magnitude;
}

function rootMeanSquare(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return Math.sqrt(sum / values.length);
}

// 96×96: the release's layout in miniature (MSFA 6 → 2 by a 3×3 / stride-3 pool, 2× upsample).
// 80×80: odd sides (10 → 5 → 3, asymmetric SAME pads), a 3 → 5 nearest upsample (ratio not
// an integer) and no pooling (output resolution = fused side 5).
const VARIANTS = [
  { name: '96×96, pooled to 2×2', architecture: TINY_VISION_ARCHITECTURE, tokens: 4 },
  { name: '80×80, 5×5 unpooled', architecture: { ...TINY_VISION_ARCHITECTURE, image_size: 80, msfa_output_resolution: 5 }, tokens: 25 },
];

describe('writeVisionEncoderGraph', () => {
  for (const variant of VARIANTS) {
    it(`equals the reference on 2 images (${variant.name})`, async () => {
      const { config, architecture, weights } = tinyModel(variant.architecture, 11);
      const folder = join(directory, variant.name.replace(/[^a-z0-9]/gi, '-'));
      const progress: number[] = [];
      const { files } = await writeVisionEncoderGraph(config, weights, folder, { onProgress: (event) => progress.push(event.done) });
      expect(files).toEqual(['vision_encoder.onnx', 'vision_encoder.onnx_data']);
      expect(progress.at(-1)).toBe(progress.length);

      const side = architecture.imageSize;
      const pixels = randomPixels(2 * 3 * side * side, 5);
      const session = await ort.InferenceSession.create(join(folder, 'vision_encoder.onnx'));
      expect(session.inputNames).toEqual(['pixel_values']);
      expect(session.outputNames).toEqual(['image_features']);
      const outputs = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [2, 3, side, side]) });
      await session.release();
      const features = outputs.image_features!;
      const textHidden = config.text.hiddenSize;
      expect(features.dims).toEqual([2, variant.tokens, textHidden]);

      const expected = referenceVisionEncoder(config, architecture, (name) => weights.get(name), pixels, 2);
      const actual = features.data as Float32Array;
      const error = relativeError(actual, expected);
      console.log(`vision encoder ${variant.name}: max |onnx − reference| / max |reference| = ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-4);

      // Not a degenerate output: the two images differ, and so do the tokens of one image.
      const perImage = variant.tokens * textHidden;
      expect(relativeError(actual.subarray(0, perImage), actual.subarray(perImage))).toBeGreaterThan(0.05);
      expect(relativeError(actual.subarray(0, textHidden), actual.subarray(textHidden, 2 * textHidden))).toBeGreaterThan(0.05);
    });
  }

  it('random weights keep the residual stream in a sane range through every stage', () => {
    const { architecture, weights } = tinyModel(TINY_VISION_ARCHITECTURE, 11);
    const side = architecture.imageSize;
    const image = featureMap(3, side, side, randomPixels(3 * side * side, 9));
    const features = referenceVisionFeatures(architecture, (name) => weights.get(name), image);
    const tower = resolveVisionTower(architecture);
    expect(features.map((feature) => [feature.channels, feature.height])).toEqual([
      [tower.stemChannels, 48],
      [8, 24],
      [16, 12],
      [24, 6],
      [32, 3],
    ]);
    for (const feature of features) {
      const rms = rootMeanSquare(feature.data);
      // Each block ends in an RmsNorm2d (RMS ≈ |w| ≈ 1); residual adds grow it only mildly.
      expect(rms).toBeGreaterThan(0.5);
      expect(rms).toBeLessThan(4);
      // Spatially varied: the spread across values is comparable to their scale.
      const mean = feature.data.reduce((sum, value) => sum + value, 0) / feature.data.length;
      expect(rootMeanSquare(feature.data.map((value) => value - mean))).toBeGreaterThan(0.3 * rms);
    }
  });

  it('accepts a checkpoint without the (zero in the release) stem bias', async () => {
    const { config, architecture, weights } = tinyModel(TINY_VISION_ARCHITECTURE, 12);
    const withoutBias = new InMemoryTensorSource();
    for (const name of weights.names()) {
      if (!name.endsWith('conv_stem.conv.bias')) withoutBias.set(name, weights.info(name).shape, weights.get(name));
    }
    const folder = join(directory, 'no-stem-bias');
    await writeVisionEncoderGraph(config, withoutBias, folder);
    const side = architecture.imageSize;
    const pixels = randomPixels(3 * side * side, 6);
    const session = await ort.InferenceSession.create(join(folder, 'vision_encoder.onnx'));
    const outputs = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, side, side]) });
    await session.release();
    const lookup = (name: string) => withoutBias.get(name);
    const expected = referenceVisionEncoder(config, architecture, lookup, pixels, 1);
    expect(relativeError(outputs.image_features!.data as Float32Array, expected)).toBeLessThan(1e-4);
    // The bias mattered: with it the reference differs.
    const withBias = referenceVisionEncoder(config, architecture, (name) => weights.get(name), pixels, 1);
    expect(relativeError(withBias, expected)).toBeGreaterThan(1e-3);
  });

  it('rejects a config whose vision_soft_tokens_per_image disagrees with the tower', async () => {
    const raw = withVisionArchitecture(tinyShapeConfig('tiny-mha-every-5'));
    raw['vision_soft_tokens_per_image'] = 256;
    const config = parseGemma3nConfig(raw);
    const { weights } = tinyModel(TINY_VISION_ARCHITECTURE, 1);
    await expect(writeVisionEncoderGraph(config, weights, join(directory, 'bad'))).rejects.toThrow(
      'vision_soft_tokens_per_image is 256; expected 4 (the MSFA output resolution 2 squared)',
    );
  });
});
