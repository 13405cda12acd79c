import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGemma3nConfig } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { makeTinyModel, randomCheckpointWeights, tinyShapeConfig } from '@gemma3n/convert';
import { referenceVisionEncoder } from '@gemma3n/reference';
// The tower description lives beside the graph builder in convert (not a public export).
import { visionArchitectureFromConfig } from '../../../convert/src/vision/mobilenet-v5-architecture';
import { pixelValues } from '../preprocess/pixel-values';
import { VisionEncoder } from './vision-encoder';

function patternImage(width: number, height: number, phase: number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = 3 * (y * width + x);
      data[offset] = (x * 7 + phase) % 256;
      data[offset + 1] = (y * 11 + 3 * phase) % 256;
      data[offset + 2] = ((x ^ y) * 5) % 256;
    }
  }
  return { width, height, channels: 3 as const, data };
}

describe('VisionEncoder', () => {
  let folder: string;
  beforeAll(async () => {
    folder = join(mkdtempSync(join(tmpdir(), 'gemma3n-vision-encoder-')), 'tiny');
    await makeTinyModel(folder, { shape: 'tiny-multimodal', seed: 3 });
  });
  afterAll(() => rmSync(join(folder, '..'), { recursive: true, force: true }));

  it('runs vision_encoder.onnx on two images and equals the reference tower + embedder', async () => {
    const raw = tinyShapeConfig('tiny-multimodal');
    const config = parseGemma3nConfig(raw);
    const weights = randomCheckpointWeights(raw, { seed: 3, includeTowers: true });
    const architecture = visionArchitectureFromConfig(config.vision!);
    const side = architecture.imageSize;
    // Different sizes: one is resized, one is already at the encoder's size.
    const pixels = pixelValues([patternImage(150, 120, 1), patternImage(side, side, 9)], { size: { height: side, width: side } });
    const encoder = await VisionEncoder.load({ files: new NodeDirectoryModelFiles(folder), backend: createNodeBackend() });
    const features = await encoder.encode(pixels);
    await encoder.release();
    expect(features.dims).toEqual([2, config.visionSoftTokensPerImage, config.text.hiddenSize]);
    const expected = referenceVisionEncoder(config, architecture, (name) => weights.get(name), pixels.data, 2);
    let worst = 0;
    let scale = 0;
    for (let index = 0; index < expected.length; index++) {
      worst = Math.max(worst, Math.abs(features.data[index]! - expected[index]!));
      scale = Math.max(scale, Math.abs(expected[index]!));
    }
    expect(worst).toBeLessThanOrEqual(1e-4 * scale);
    // The two images give different rows (the test would pass on a constant output otherwise).
    const perImage = expected.length / 2;
    expect(features.data.subarray(0, 8)).not.toEqual(features.data.subarray(perImage, perImage + 8));
  });

  it('names the missing file and refuses malformed pixel values', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gemma3n-vision-empty-'));
    await expect(VisionEncoder.load({ files: new NodeDirectoryModelFiles(empty), backend: createNodeBackend() })).rejects.toThrow(/vision_encoder\.onnx/);
    rmSync(empty, { recursive: true, force: true });
    const encoder = new VisionEncoder({ run: async () => ({}) });
    await expect(encoder.encode({ data: new Float32Array(10), dims: [1, 3, 4, 4] })).rejects.toThrow(/\[N, 3, H, W\]/);
  });
});
