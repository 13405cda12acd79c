import { describe, expect, it } from 'vitest';
import { parseGemma3nConfig } from '@gemma3n/core';
import { expectedCheckpointTensors, TEXT_PREFIX } from './expected-checkpoint-tensors';
import { tensorDistribution } from './random-checkpoint-weights';
import { SyntheticTensorSource } from './synthetic-tensor-source';
import { tinyShapeConfig } from './tiny-text-shapes';

const rawConfig = tinyShapeConfig('tiny-window-4');
const config = parseGemma3nConfig(rawConfig);

describe('SyntheticTensorSource', () => {
  it('has every checkpoint tensor with its shape', () => {
    const source = new SyntheticTensorSource(rawConfig, 1);
    const expected = expectedCheckpointTensors(config);
    expect(source.names().sort()).toEqual(expected.map((tensor) => tensor.name).sort());
    for (const tensor of expected) expect(source.info(tensor.name).shape).toEqual(tensor.shape);
  });

  it('gives the same rows however they are read: whole, in odd-sized ranges, or one at a time', async () => {
    const source = new SyntheticTensorSource(rawConfig, 1);
    const name = `${TEXT_PREFIX}embed_tokens_per_layer.weight`;
    const [rows, columns] = source.info(name).shape as [number, number];
    const whole = await source.read(name);
    const pieces: Float32Array[] = [];
    for (let first = 0; first < rows; first += 37) pieces.push(await source.readRows(name, first, Math.min(37, rows - first)));
    const joined = new Float32Array(rows * columns);
    let offset = 0;
    for (const piece of pieces) {
      joined.set(piece, offset);
      offset += piece.length;
    }
    expect(joined).toEqual(whole);
    expect(await source.readRows(name, 130, 1)).toEqual(whole.subarray(130 * columns, 131 * columns));
    // Another seed gives other values.
    expect(await new SyntheticTensorSource(rawConfig, 2).readRows(name, 0, 1)).not.toEqual(whole.subarray(0, columns));
  });

  it('draws each tensor with the mean and spread of randomCheckpointWeights', async () => {
    const source = new SyntheticTensorSource(rawConfig, 3);
    for (const tensor of expectedCheckpointTensors(config)) {
      const values = await source.read(tensor.name);
      if (values.length < 512 || tensor.name === `${TEXT_PREFIX}embed_tokens.weight`) continue;
      const { mean, standardDeviation } = tensorDistribution(config, tensor);
      const sampleMean = values.reduce((sum, value) => sum + value, 0) / values.length;
      const sampleDeviation = Math.sqrt(values.reduce((sum, value) => sum + (value - sampleMean) ** 2, 0) / values.length);
      expect(Math.abs(sampleMean - mean), tensor.name).toBeLessThan((5 * standardDeviation) / Math.sqrt(values.length));
      expect(sampleDeviation / standardDeviation, tensor.name).toBeGreaterThan(0.9);
      expect(sampleDeviation / standardDeviation, tensor.name).toBeLessThan(1.1);
    }
  });

  it('copies the pad row into the multimodal rows of embed_tokens, as the releases do', async () => {
    const source = new SyntheticTensorSource(rawConfig, 1);
    const name = `${TEXT_PREFIX}embed_tokens.weight`;
    const { vocabSize, vocabSizePerLayerInput, hiddenSize, padTokenId } = config.text;
    const pad = await source.readRows(name, padTokenId, 1);
    const tail = await source.readRows(name, vocabSizePerLayerInput - 1, vocabSize - vocabSizePerLayerInput + 1);
    expect(tail.subarray(0, hiddenSize)).not.toEqual(pad);
    for (let row = 1; row <= vocabSize - vocabSizePerLayerInput; row++) expect(tail.subarray(row * hiddenSize, (row + 1) * hiddenSize)).toEqual(pad);
  });

  it('names an unknown tensor and a row range outside the tensor', async () => {
    const source = new SyntheticTensorSource(rawConfig, 1);
    await expect(source.read('model.nothing')).rejects.toThrow(/model\.nothing is not in this synthetic checkpoint/);
    const name = `${TEXT_PREFIX}embed_tokens.weight`;
    await expect(source.readRows(name, config.text.vocabSize - 1, 2)).rejects.toThrow(/outside its/);
  });
});
