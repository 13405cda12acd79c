import { InputError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { tinyConfig, tinyWeights } from '../test-support/tiny-model';
import { layerWeightName, textWeightName, type WeightLookup } from '../weight-lookup';
import { referenceEmbed } from '../embedding/reference-embed';
import { referenceForward } from '../reference-forward';
import { combinePerLayerInputs, initialiseStreams, outputLogits, referenceDecoder } from './reference-decoder';

function logitsAt(logits: Float32Array, position: number, vocabSize: number): number[] {
  return Array.from(logits.subarray(position * vocabSize, (position + 1) * vocabSize));
}

describe('combinePerLayerInputs (§1.3 steps 5–6)', () => {
  it('(RMSNorm_P(projection(E) · D^-0.5) + perLayerInputs) · 2^-0.5', () => {
    const text = tinyConfig({ hiddenSize: 2, hiddenSizePerLayerInput: 2, numHiddenLayers: 1 }).text;
    const tensors = new Map([
      [textWeightName('per_layer_model_projection.weight'), Float32Array.from([1, 0, 0, 1])],
      [textWeightName('per_layer_projection_norm.weight'), Float32Array.from([1, 1])],
    ]);
    const combined = combinePerLayerInputs(text, (name) => tensors.get(name)!, Float32Array.from([3, 4]), Float32Array.from([1, -1]), 1);
    expect(combined[0]).toBeCloseTo(1.3071067331865533, 6);
    expect(combined[1]).toBeCloseTo(0.09289315481346018, 6);
  });
});

describe('AltUp stream initialisation and output (§1.4, §1.9)', () => {
  const text = tinyConfig({ hiddenSize: 2, altupNumInputs: 2, vocabSize: 3, finalLogitSoftcapping: 30 }).text;

  it('stream i = altup_projections[i−1](E) rescaled to the RMS of E', () => {
    const tensors = new Map([[textWeightName('altup_projections.0.weight'), Float32Array.from([1, 0, 0, 0])]]);
    const [[first, second]] = initialiseStreams(text, (name) => tensors.get(name)!, Float32Array.from([3, 4]), 1) as [[Float32Array, Float32Array]];
    expect(Array.from(first)).toEqual([3, 4]);
    // [3, 0] · rms([3, 4]) / rms([3, 0]) = [3, 0] · 3.5355 / 2.1213 = [5, 0].
    expect(second[0]).toBeCloseTo(5, 5);
    expect(second[1]).toBe(0);
  });

  it('logits = softcap(RMSNorm(mean(H_0, unembed(H_i) at the RMS of H_0)) · embed_tokensᵀ)', () => {
    // U_1 = [2, 0] · rms([3, 4]) / rms([2, 0]) = [5, 0]; mean = [4, 2]; norm → [4, 2] / √10;
    // rows [1, 0], [0, 1], [10, 10] → [1.2649, 0.6325, 18.974]; 30·tanh(x / 30).
    const logits = outputLogits(text, [Float32Array.from([2, 0, 0, 2])], Float32Array.from([1, 1]), Float32Array.from([1, 0, 0, 1, 10, 10]), [
      Float32Array.from([3, 4]), Float32Array.from([1, 0]),
    ]);
    [1.2641620197896968, 0.6323618515720881, 16.792221691180387].forEach((value, index) => expect(logits[index]).toBeCloseTo(value, 5));
  });
});

describe('referenceForward / referenceDecoder', () => {
  const config = tinyConfig();
  const weights = tinyWeights(config);
  const vocabSize = config.text.vocabSize;
  const prompt = [2, 17, 401, 99, 421, 250, 3, 77, 5, 6];

  it('runs a tiny config (D 32, L 10, V 440) well under a second, with finite, softcapped logits', () => {
    const started = performance.now();
    const logits = referenceForward(config, weights.lookup, prompt);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(logits).toHaveLength(prompt.length * vocabSize);
    expect(logits.every((value) => Number.isFinite(value) && Math.abs(value) < 30)).toBe(true);
    // Not degenerate: positions differ and logits spread.
    expect(logitsAt(logits, 0, vocabSize)).not.toEqual(logitsAt(logits, 1, vocabSize));
    const last = logitsAt(logits, prompt.length - 1, vocabSize);
    expect(Math.max(...last) - Math.min(...last)).toBeGreaterThan(0.5);
  });

  it('is causal: logits at t do not change when tokens after t change', () => {
    const original = referenceForward(config, weights.lookup, prompt);
    const changed = referenceForward(config, weights.lookup, [...prompt.slice(0, 5), 300, 301, 302, 303, 304]);
    for (let position = 0; position < 5; position++) {
      expect(logitsAt(changed, position, vocabSize)).toEqual(logitsAt(original, position, vocabSize));
    }
    expect(logitsAt(changed, 5, vocabSize)).not.toEqual(logitsAt(original, 5, vocabSize));
  });

  describe('sliding layers only (W = 3, three layers)', () => {
    const layerTypes = ['sliding_attention', 'sliding_attention', 'sliding_attention'] as const;
    const ids = [2, 10, 20, 30, 40, 50, 60, 70, 80, 90];
    const lastPosition = ids.length - 1;
    const withTokenChanged = (position: number) => ids.map((id, index) => (index === position ? id + 1 : id));

    function reach(numKvSharedLayers: number): number[] {
      const sliding = tinyConfig({ numHiddenLayers: 3, numKvSharedLayers, slidingWindow: 3, layerTypes: [...layerTypes] });
      const slidingWeights = tinyWeights(sliding, 7);
      const base = logitsAt(referenceForward(sliding, slidingWeights.lookup, ids), lastPosition, vocabSize);
      return ids.map((_, position) => position).filter((position) =>
        logitsAt(referenceForward(sliding, slidingWeights.lookup, withTokenChanged(position)), lastPosition, vocabSize).some((value, index) => value !== base[index]),
      );
    }

    it('position t depends on exactly tokens t − L·(W − 1) .. t without KV sharing', () => {
      // Each layer reaches W − 1 = 2 positions back: 9 sees 3..9, never 0..2.
      expect(reach(0)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    });

    it('a KV-shared last layer reaches only as far as the K/V of its producer (t − 4), not t − 6', () => {
      // Layer 2 attends to layer 1's K/V, computed from layer 1's input: the reach of two layers.
      // A consumer computing its own K/V from its own input would reach 3 again.
      expect(reach(1)).toEqual([5, 6, 7, 8, 9]);
    });
  });

  it('a full-attention layer lets the last position see the first token', () => {
    const withFull = tinyConfig({ numHiddenLayers: 2, numKvSharedLayers: 0, slidingWindow: 2, layerTypes: ['sliding_attention', 'full_attention'] });
    const fullWeights = tinyWeights(withFull, 3);
    const ids = [2, 10, 20, 30, 40, 50];
    const changedFirst = referenceForward(withFull, fullWeights.lookup, [9, ...ids.slice(1)]);
    expect(logitsAt(changedFirst, 5, vocabSize)).not.toEqual(logitsAt(referenceForward(withFull, fullWeights.lookup, ids), 5, vocabSize));
  });

  it('KV-shared layers use the producer K/V: their own k_proj/v_proj/k_norm are never read', () => {
    // L = 10, 3 shared: F = 7; layers 7, 8 read layer 6 (sliding), layer 9 reads layer 4 (full).
    const shared = tinyConfig({ numHiddenLayers: 10, numKvSharedLayers: 3 });
    const sharedWeights = tinyWeights(shared, 5);
    const ids = [2, 3, 4, 5, 6, 7];
    const base = referenceForward(shared, sharedWeights.lookup, ids);
    for (const consumer of [7, 8, 9]) {
      for (const suffix of ['self_attn.k_proj.weight', 'self_attn.v_proj.weight', 'self_attn.k_norm.weight']) {
        expect(sharedWeights.requested.has(layerWeightName(consumer, suffix))).toBe(false);
      }
    }
    // Changing the producer's (layer 6, last sliding below F = 7) keys changes the output; it is read twice.
    const producerKeys = sharedWeights.tensors.get(layerWeightName(6, 'self_attn.k_proj.weight'))!;
    const saved = Float32Array.from(producerKeys);
    producerKeys.forEach((value, index) => (producerKeys[index] = value * 1.5));
    const changed = referenceForward(shared, sharedWeights.lookup, ids);
    producerKeys.set(saved);
    expect(logitsAt(changed, 5, vocabSize)).not.toEqual(logitsAt(base, 5, vocabSize));
  });

  it('activation sparsity is applied where configured and skipped at 0', () => {
    const dense = tinyConfig({ activationSparsityPattern: Array(10).fill(0) });
    const sparse = tinyConfig();
    const sharedWeights = tinyWeights(sparse, 11);
    const ids = [2, 40, 41, 42];
    expect(Array.from(referenceForward(dense, sharedWeights.lookup, ids))).not.toEqual(Array.from(referenceForward(sparse, sharedWeights.lookup, ids)));
  });

  it('referenceDecoder is the second half of referenceForward and checks its input sizes', () => {
    const { inputsEmbeds, perLayerInputs } = referenceEmbed(config, weights.lookup, prompt);
    expect(Array.from(referenceDecoder(config, weights.lookup, inputsEmbeds, perLayerInputs, prompt.length))).toEqual(
      Array.from(referenceForward(config, weights.lookup, prompt)),
    );
    expect(() => referenceDecoder(config, weights.lookup, inputsEmbeds, perLayerInputs, prompt.length + 1)).toThrow(InputError);
    const seenLayers: number[] = [];
    referenceDecoder(config, weights.lookup, inputsEmbeds, perLayerInputs, prompt.length, {
      onLayerOutput: (layerIndex, streams) => {
        seenLayers.push(layerIndex);
        expect(streams).toHaveLength(prompt.length);
        expect(streams[0]).toHaveLength(config.text.altupNumInputs);
      },
    });
    expect(seenLayers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const keyValueLayers: number[] = [];
    referenceDecoder(config, weights.lookup, inputsEmbeds, perLayerInputs, prompt.length, {
      onLayerKeyValues: (layerIndex, keyValues) => {
        keyValueLayers.push(layerIndex);
        expect(keyValues.keys).toHaveLength(prompt.length * config.text.numKeyValueHeads * config.text.headDim);
        expect(keyValues.values).toHaveLength(prompt.length * config.text.numKeyValueHeads * config.text.headDim);
      },
    });
    expect(keyValueLayers).toEqual([0, 1, 2, 3, 4, 5, 6]); // F = 7: layers 7–9 compute no K/V
    const wrongShape: WeightLookup = (name) => (name.endsWith('norm.weight') && name.startsWith(textWeightName('norm')) ? new Float32Array(3) : weights.lookup(name));
    expect(() => referenceDecoder(config, wrongShape, inputsEmbeds, perLayerInputs, prompt.length)).toThrow(/norm\.weight/);
  });
});
