import { describe, expect, it } from 'vitest';
import { referenceEmbedHardToken, referenceEmbedSoftTokens } from '../embedding/multimodal-embedder';
import { audioLocalAttention } from './audio-attention';
import { audioEncoderDimensions } from './audio-encoder-dimensions';
import { tinyAudioConfig, tinyAudioFeatures, tinyAudioWeights } from './audio-test-support';
import { lightConv1d, readConformerBlockWeights } from './conformer-block';
import { referenceAudioEncoder, referenceAudioTower } from './reference-audio-encoder';

const config = tinyAudioConfig();
const dimensions = audioEncoderDimensions(config);
const weights = tinyAudioWeights(config, 7);
const bins = dimensions.inputFeatureSize;
const hidden = dimensions.hiddenSize;
const textHidden = config.text.hiddenSize;

function rows(values: Float32Array, width: number, first: number, last: number): number[] {
  return Array.from(values.subarray(first * width, last * width));
}

describe('light conv causality', () => {
  it('changing frame 6 leaves frames 0–5 unchanged and changes frame 6', () => {
    const block = readConformerBlockWeights(dimensions, weights, 0);
    const input = tinyAudioFeatures(10, hidden, 1);
    const changed = input.slice();
    for (let index = 6 * hidden; index < 7 * hidden; index++) changed[index] = changed[index]! + 1;
    const before = lightConv1d(dimensions, block.lightConv, input, 10);
    const after = lightConv1d(dimensions, block.lightConv, changed, 10);
    expect(rows(after, hidden, 0, 6)).toEqual(rows(before, hidden, 0, 6));
    expect(rows(after, hidden, 6, 7)).not.toEqual(rows(before, hidden, 6, 7));
  });
});

describe('local attention masking', () => {
  const block = readConformerBlockWeights(dimensions, weights, 1);
  const frames = 30;
  const input = tinyAudioFeatures(frames, hidden, 2).map((value) => value / 4);
  it('an invalid key, even inside the band, does not reach any valid query', () => {
    const valid = new Uint8Array(frames).fill(1);
    valid[10] = 0;
    const changed = input.slice();
    changed.fill(3, 10 * hidden, 11 * hidden);
    const before = audioLocalAttention(dimensions, block.attention, input, valid, frames);
    const after = audioLocalAttention(dimensions, block.attention, changed, valid, frames);
    for (let query = 0; query < frames; query++) {
      if (query !== 10) expect(rows(after, hidden, query, query + 1)).toEqual(rows(before, hidden, query, query + 1));
    }
    // The same change to a valid key moves the queries that see it (11 … 22), not the others.
    valid[10] = 1;
    const seen = audioLocalAttention(dimensions, block.attention, changed, valid, frames);
    const unchanged = audioLocalAttention(dimensions, block.attention, input, valid, frames);
    expect(rows(seen, hidden, 22, 23)).not.toEqual(rows(unchanged, hidden, 22, 23));
    expect(rows(seen, hidden, 23, 30)).toEqual(rows(unchanged, hidden, 23, 30));
    expect(rows(seen, hidden, 0, 10)).toEqual(rows(unchanged, hidden, 0, 10));
  });
});

describe('referenceAudioEncoder', () => {
  it('gives 188 rows: soft embeddings of the encoder tokens, then the hard embedding of id vocab_size − 1', () => {
    const frames = 37; // → 19 → 10 → 3 tokens
    const features = tinyAudioFeatures(frames, bins, 3);
    const mask = new Uint8Array(frames).fill(1);
    const output = referenceAudioEncoder(config, weights, features, mask);
    expect(output.length).toBe(188 * textHidden);
    const tower = referenceAudioTower(config, weights, features, mask);
    expect([tower.tokens, Array.from(tower.valid)]).toEqual([3, [1, 1, 1]]);
    const soft = referenceEmbedSoftTokens(config, weights, 'audio', tower.hidden, 3);
    expect(rows(output, textHidden, 0, 3)).toEqual(Array.from(soft));
    const padding = Array.from(referenceEmbedHardToken(config, weights, 'audio', config.text.vocabSize - 1));
    for (const token of [3, 100, 187]) expect(rows(output, textHidden, token, token + 1)).toEqual(padding);
    expect(rows(output, textHidden, 2, 3)).not.toEqual(padding);
  });

  it('masked trailing frames beyond every valid token\'s receptive field do not change the valid tokens', () => {
    // 64 frames → 32 → 16 SSCP frames → 4 tokens. Frames 0–39 valid: SSCP frames t ≤ 9 are valid
    // (mask[4t]), tokens 0–2 (SSCP frames 0, 4, 8) valid, token 3 (frame 12) invalid. An SSCP frame
    // t reads input frames ≤ 4t + 6, so valid frames read inputs ≤ 42; frames 48–63 are unseen.
    const frames = 64;
    const features = tinyAudioFeatures(frames, bins, 4);
    const mask = Uint8Array.from({ length: frames }, (_, frame) => (frame < 40 ? 1 : 0));
    const tower = referenceAudioTower(config, weights, features, mask);
    expect(Array.from(tower.valid)).toEqual([1, 1, 1, 0]);
    expect(rows(tower.hidden, hidden, 3, 4)).toEqual(new Array(hidden).fill(0));
    const changed = features.slice();
    for (let index = 48 * bins; index < frames * bins; index++) changed[index] = changed[index]! * -3 + 5;
    const output = referenceAudioEncoder(config, weights, features, mask);
    expect(rows(referenceAudioEncoder(config, weights, changed, mask), textHidden, 0, 188)).toEqual(rows(output, textHidden, 0, 188));
    // Not vacuous: changing a valid frame changes the output.
    const changedValid = features.slice();
    changedValid[20 * bins] = changedValid[20 * bins]! + 1;
    expect(rows(referenceAudioEncoder(config, weights, changedValid, mask), textHidden, 0, 3)).not.toEqual(rows(output, textHidden, 0, 3));
    // The masked token is the padding embedding.
    const padding = Array.from(referenceEmbedHardToken(config, weights, 'audio', config.text.vocabSize - 1));
    expect(rows(output, textHidden, 3, 4)).toEqual(padding);
  });

  it('keeps the first audioSeqLength tokens when the clip gives more', () => {
    const frames = 45; // → 23 → 12 → 3 tokens
    const features = tinyAudioFeatures(frames, bins, 5);
    const mask = new Uint8Array(frames).fill(1);
    const full = referenceAudioEncoder(config, weights, features, mask, 3);
    const truncated = referenceAudioEncoder(config, weights, features, mask, 2);
    expect(Array.from(truncated)).toEqual(rows(full, textHidden, 0, 2));
  });

  it('rejects features that do not match the mask', () => {
    expect(() => referenceAudioEncoder(config, weights, new Float32Array(10), new Uint8Array(2))).toThrow(/2 frames × 20 mel bins = 40 values/);
  });
});
