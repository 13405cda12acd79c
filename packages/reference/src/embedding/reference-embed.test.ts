import { InputError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { tinyConfig, tinyWeights } from '../test-support/tiny-model';
import { textWeightName, type WeightLookup } from '../weight-lookup';
import { isHardTokenOf, referenceEmbedHardToken, referenceEmbedSoftTokens } from './multimodal-embedder';
import { referenceEmbed } from './reference-embed';

// tinyConfig: V = 440, vision ids [400, 420), audio ids [420, 440), PLE table 400 rows, D = 32, L = 10, P = 8.
const config = tinyConfig();
const weights = tinyWeights(config);
const { hiddenSize, vocabSize } = config.text;
const perLayerWidth = config.text.numHiddenLayers * config.text.hiddenSizePerLayerInput;

describe('referenceEmbed (§1.3)', () => {
  const allIds = Array.from({ length: vocabSize }, (_, id) => id);
  const { inputsEmbeds, perLayerInputs } = referenceEmbed(config, weights.lookup, allIds);
  const table = weights.tensors.get(textWeightName('embed_tokens.weight'))!;
  const perLayerTable = weights.tensors.get(textWeightName('embed_tokens_per_layer.weight'))!;

  it('scales text rows by sqrt(D) and uses the hard path exactly for ids in the modality ranges', () => {
    for (const id of allIds) {
      const row = Array.from(inputsEmbeds.subarray(id * hiddenSize, (id + 1) * hiddenSize));
      const textRow = Array.from(table.subarray(id * hiddenSize, (id + 1) * hiddenSize), (value) => Math.fround(value * Math.sqrt(hiddenSize)));
      const modality = isHardTokenOf(config, 'vision', id) ? 'vision' : isHardTokenOf(config, 'audio', id) ? 'audio' : null;
      expect(modality === 'vision').toBe(id >= 400 && id < 420);
      expect(modality === 'audio').toBe(id >= 420 && id < 440);
      if (modality === null) expect(row).toEqual(textRow);
      else {
        expect(row).not.toEqual(textRow);
        expect(row).toEqual(Array.from(referenceEmbedHardToken(config, weights.lookup, modality, id)));
      }
    }
  });

  it('hard-token rows are unit-RMS (post-projection norm without scale) and not scaled by sqrt(D)', () => {
    for (const id of [400, 419, 420, 439]) {
      const row = inputsEmbeds.subarray(id * hiddenSize, (id + 1) * hiddenSize);
      const meanSquare = row.reduce((sum, value) => sum + value * value, 0) / hiddenSize;
      expect(meanSquare).toBeCloseTo(1, 4);
    }
  });

  it('looks the PLE table up × sqrt(P), with ids ≥ vocab_size_per_layer_input mapped to row 0', () => {
    for (const id of allIds) {
      const row = Array.from(perLayerInputs.subarray(id * perLayerWidth, (id + 1) * perLayerWidth));
      const tableRow = id < 400 ? id : 0;
      expect(row).toEqual(Array.from(perLayerTable.subarray(tableRow * perLayerWidth, (tableRow + 1) * perLayerWidth), (value) => Math.fround(value * Math.sqrt(8))));
    }
  });

  it('without a vision config, vision-range ids are plain text rows', () => {
    const textOnly = { ...config, vision: null };
    const { inputsEmbeds: embedded } = referenceEmbed(textOnly, weights.lookup, [405]);
    expect(Array.from(embedded)).toEqual(Array.from(table.subarray(405 * hiddenSize, 406 * hiddenSize), (value) => Math.fround(value * Math.sqrt(hiddenSize))));
  });

  it('rejects ids outside [0, V)', () => {
    expect(() => referenceEmbed(config, weights.lookup, [1, 440])).toThrow(InputError);
    expect(() => referenceEmbed(config, weights.lookup, [-1])).toThrow(/inputIds\[0\]/);
    expect(() => referenceEmbed(config, weights.lookup, [1.5])).toThrow(InputError);
  });
});

describe('multimodal embedder (§3 end, §4.3)', () => {
  // Vision hidden 2, text D = 2: row [3, 4] → hard norm → [[1, 0], [1, 1]] projection → norm without scale.
  const small = tinyConfig({ hiddenSize: 2 });
  small.vision = { hiddenSize: 2, vocabSize: 2, vocabOffset: 400, rmsNormEps: 1e-6, raw: {} };
  const tensors = new Map<string, Float32Array>([
    ['model.embed_vision.embedding.weight', Float32Array.from([0, 0, 3, 4])],
    ['model.embed_vision.hard_embedding_norm.weight', Float32Array.from([1, 1])],
    ['model.embed_vision.soft_embedding_norm.weight', Float32Array.from([2, 2])],
    ['model.embed_vision.embedding_projection.weight', Float32Array.from([1, 0, 1, 1])],
  ]);
  const lookup: WeightLookup = (name) => tensors.get(name)!;

  it('hard path: RMSNorm_noscale(projection(RMSNorm_hard(embedding[id − offset])))', () => {
    const embedded = referenceEmbedHardToken(small, lookup, 'vision', 401);
    expect(embedded[0]).toBeCloseTo(0.5570858944695437, 6);
    expect(embedded[1]).toBeCloseTo(1.2998670870956022, 6);
  });

  it('soft path uses soft_embedding_norm (a uniform scale cancels in the final norm)', () => {
    const embedded = referenceEmbedSoftTokens(small, lookup, 'vision', Float32Array.from([3, 4, 30, 40]), 2);
    [0.5570858944695437, 1.2998670870956022, 0.5570858944695437, 1.2998670870956022].forEach((value, index) => expect(embedded[index]).toBeCloseTo(value, 5));
  });
});
