import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { tinyShapeConfig } from '../checkpoint/tiny-text-shapes';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
// The audio reference is not re-exported from @gemma3n/reference's index yet.
import { audioEncoderTokenCount, referenceAudioEncoder } from '../../../reference/src/audio/index';
import { AUDIO_ENCODER_FILE, writeAudioEncoderGraph } from './audio-encoder-graph';
import { randomAudioTowerWeights } from './random-audio-weights';

// tiny-window-4: text hidden 32; audio hidden 24 (2 heads of 12), 2 conformer layers, SSCP
// channels [8, 4], 128 mel bins, chunk 12 / left 13 / right 0, audio ids end at vocab_size.
const rawConfig = tinyShapeConfig('tiny-window-4');
const config = parseGemma3nConfig(rawConfig);
const weights = randomAudioTowerWeights(config, { seed: 11, target: randomCheckpointWeights(rawConfig, { seed: 11 }) });
const lookup = (name: string) => weights.get(name);
const bins = config.audio!.inputFeatSize;
const textHidden = config.text.hiddenSize;
/** ONNX vs reference: max |Δ| / max |reference| over the whole output must stay below this. */
const RELATIVE_TOLERANCE = 1e-4;

let directory: string;
let session: ort.InferenceSession;
let progress: { done: number; total: number }[] = [];

/** Log-mel-like features: a spectral tilt, a slow modulation and noise, around −4. */
function features(frames: number, seed: number): Float32Array {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Float32Array.from({ length: frames * bins }, (_, index) => -4 - (index % bins) / bins + Math.sin(index / 97) + 2 * next());
}

async function runGraph(clips: { features: Float32Array; mask: Uint8Array }[], frames: number): Promise<Float32Array> {
  const featureData = new Float32Array(clips.length * frames * bins);
  const maskData = new Uint8Array(clips.length * frames);
  clips.forEach((clip, index) => {
    featureData.set(clip.features, index * frames * bins);
    maskData.set(clip.mask, index * frames);
  });
  const result = await session.run({
    input_features: new ort.Tensor('float32', featureData, [clips.length, frames, bins]),
    input_features_mask: new ort.Tensor('bool', maskData, [clips.length, frames]),
  });
  const output = result['audio_features']!;
  expect(output.dims).toEqual([clips.length, 188, textHidden]);
  return output.data as Float32Array;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maximumDifference = 0;
  let maximumMagnitude = 0;
  for (let index = 0; index < expected.length; index++) {
    maximumDifference = Math.max(maximumDifference, Math.abs(actual[index]! - expected[index]!));
    maximumMagnitude = Math.max(maximumMagnitude, Math.abs(expected[index]!));
  }
  return maximumDifference / maximumMagnitude;
}

async function expectMatchesReference(name: string, frames: number, mask: Uint8Array, seed: number): Promise<Float32Array> {
  const clip = features(frames, seed);
  const actual = await runGraph([{ features: clip, mask }], frames);
  const expected = referenceAudioEncoder(config, lookup, clip, mask, 188);
  const error = relativeError(actual, expected);
  console.info(`audio_encoder ${name}: ${frames} frames, ${audioEncoderTokenCount(config, frames)} tokens, relative error ${error.toExponential(2)}`);
  expect(error).toBeLessThan(RELATIVE_TOLERANCE);
  return actual;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'audio-encoder-'));
  progress = [];
  const { files } = await writeAudioEncoderGraph(config, weights, directory, { onProgress: (event) => progress.push(event) });
  expect(files).toEqual([AUDIO_ENCODER_FILE, `${AUDIO_ENCODER_FILE}_data`]);
  session = await ort.InferenceSession.create(join(directory, AUDIO_ENCODER_FILE), { executionProviders: ['cpu'] });
});

afterAll(async () => {
  await session?.release();
  await rm(directory, { recursive: true, force: true });
});

describe('audio_encoder.onnx', () => {
  it('declares the contract inputs and output, with plain ai.onnx ops only', async () => {
    const model = onnx.ModelProto.decode(await readFile(join(directory, AUDIO_ENCODER_FILE)));
    const describeValue = (value: OnnxTypes.IValueInfoProto) => [
      value.name,
      value.type!.tensorType!.elemType,
      value.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue)),
    ];
    expect(model.graph!.input!.map(describeValue)).toEqual([
      ['input_features', 1, ['batch_size', 'frames', 128]],
      ['input_features_mask', 9, ['batch_size', 'frames']],
    ]);
    expect(model.graph!.output!.map(describeValue)).toEqual([['audio_features', 1, ['batch_size', 188, 32]]]);
    const opTypes = new Set(model.graph!.node!.map((node) => `${node.domain ?? ''}:${node.opType}`));
    expect([...opTypes].sort()).toEqual(
      [
        'Add', 'And', 'Cast', 'Concat', 'ConstantOfShape', 'Conv', 'CumSum', 'Div', 'Equal', 'Expand', 'Gather',
        'GreaterOrEqual', 'Identity', 'LessOrEqual', 'MatMul', 'Min', 'Mul', 'Range', 'ReduceMean', 'ReduceSum',
        'Relu', 'Reshape', 'Shape', 'Sigmoid', 'Slice', 'Softmax', 'Sqrt', 'Squeeze', 'Sub', 'Tanh', 'Transpose',
        'Unsqueeze', 'Where',
      ].map((op) => `:${op}`).sort(),
    );
    // Progress counted every tower tensor and the four embed_audio tensors once.
    expect(progress.at(-1)).toEqual({ stage: 'audio_encoder', done: progress.length, total: progress.length });
    // 2 SSCP convs + norms, input_proj; 22 per conformer block (ffw 4 + 4, attention 8, light conv 5, norm 1).
    expect(progress.length).toBe(5 + 2 * 22 + 4);
  });

  it('a short clip (37 frames, not a multiple of 4): 3 tokens, then 185 padding rows', async () => {
    const output = await expectMatchesReference('short clip', 37, new Uint8Array(37).fill(1), 1);
    // The padding rows are all the same row and differ from the last real token.
    const row = (token: number) => Array.from(output.subarray(token * textHidden, (token + 1) * textHidden));
    expect(row(3)).toEqual(row(187));
    expect(row(2)).not.toEqual(row(3));
  });

  it('masked trailing frames (101 frames, the first 70 valid)', async () => {
    const mask = Uint8Array.from({ length: 101 }, (_, frame) => (frame < 70 ? 1 : 0));
    await expectMatchesReference('masked tail', 101, mask, 2);
  });

  it('a masked stretch inside the clip (frames 24–47 of 96)', async () => {
    const mask = Uint8Array.from({ length: 96 }, (_, frame) => (frame >= 24 && frame < 48 ? 0 : 1));
    await expectMatchesReference('masked middle', 96, mask, 3);
  });

  it('a clip longer than 30 s (3020 frames → 189 tokens) keeps its first 188 tokens', async () => {
    expect(audioEncoderTokenCount(config, 3020)).toBe(189);
    await expectMatchesReference('over 188 tokens', 3020, new Uint8Array(3020).fill(1), 4);
  });

  it('a batch of two clips of the same length gives each clip\'s own result', async () => {
    const frames = 53;
    const first = { features: features(frames, 5), mask: new Uint8Array(frames).fill(1) };
    const second = { features: features(frames, 6), mask: Uint8Array.from({ length: frames }, (_, frame) => (frame < 30 ? 1 : 0)) };
    const output = await runGraph([first, second], frames);
    const size = 188 * textHidden;
    for (const [index, clip] of [first, second].entries()) {
      const expected = referenceAudioEncoder(config, lookup, clip.features, clip.mask, 188);
      expect(relativeError(output.subarray(index * size, (index + 1) * size), expected)).toBeLessThan(RELATIVE_TOLERANCE);
    }
  });
});

describe('audio_encoder.onnx with the release front end', () => {
  // SSCP of the release (channels [128, 32], 128 bins → 64 → 32, flatten 1024) on 30 s of
  // frames, with a narrow one-layer conformer so the reference stays fast. Checks that the fp32
  // CumSum statistics over 1500 frames × 8192 values keep up with the float64 reference.
  it('3000 frames → 188 tokens within tolerance', async () => {
    const raw = tinyShapeConfig('tiny-window-4');
    Object.assign(raw['audio_config'] as Record<string, unknown>, { hidden_size: 32, conf_num_hidden_layers: 1, sscp_conv_channel_size: [128, 32] });
    const releaseFrontEnd = parseGemma3nConfig(raw);
    const releaseWeights = randomAudioTowerWeights(releaseFrontEnd, { seed: 12, target: randomCheckpointWeights(raw, { seed: 12 }) });
    const folder = await mkdtemp(join(tmpdir(), 'audio-encoder-release-'));
    try {
      await writeAudioEncoderGraph(releaseFrontEnd, releaseWeights, folder);
      const releaseSession = await ort.InferenceSession.create(join(folder, AUDIO_ENCODER_FILE));
      const frames = 3000;
      const clip = features(frames, 7);
      const mask = Uint8Array.from({ length: frames }, (_, frame) => (frame < 2900 ? 1 : 0));
      const result = await releaseSession.run({
        input_features: new ort.Tensor('float32', clip, [1, frames, bins]),
        input_features_mask: new ort.Tensor('bool', mask, [1, frames]),
      });
      await releaseSession.release();
      const expected = referenceAudioEncoder(releaseFrontEnd, (name) => releaseWeights.get(name), clip, mask, 188);
      const error = relativeError(result['audio_features']!.data as Float32Array, expected);
      console.info(`audio_encoder release front end: ${frames} frames, relative error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(RELATIVE_TOLERANCE);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('audio_encoder.onnx with right context', () => {
  // Left 5 (max_past 4), right 2, chunk 4: the band, the one-hot distances and the mask must
  // follow the config, not the release numbers.
  it('matches the reference with keys up to 2 frames ahead', async () => {
    const raw = tinyShapeConfig('tiny-window-4');
    Object.assign(raw['audio_config'] as Record<string, unknown>, { conf_attention_chunk_size: 4, conf_attention_context_left: 5, conf_attention_context_right: 2 });
    const lookAhead = parseGemma3nConfig(raw);
    const lookAheadWeights = randomAudioTowerWeights(lookAhead, { seed: 13, target: randomCheckpointWeights(raw, { seed: 13 }) });
    const folder = await mkdtemp(join(tmpdir(), 'audio-encoder-right-'));
    try {
      await writeAudioEncoderGraph(lookAhead, lookAheadWeights, folder, { audioSeqLength: 20 });
      const lookAheadSession = await ort.InferenceSession.create(join(folder, AUDIO_ENCODER_FILE));
      const frames = 150;
      const clip = features(frames, 9);
      const mask = Uint8Array.from({ length: frames }, (_, frame) => (frame < 120 ? 1 : 0));
      const result = await lookAheadSession.run({
        input_features: new ort.Tensor('float32', clip, [1, frames, bins]),
        input_features_mask: new ort.Tensor('bool', mask, [1, frames]),
      });
      await lookAheadSession.release();
      expect(result['audio_features']!.dims).toEqual([1, 20, textHidden]);
      const expected = referenceAudioEncoder(lookAhead, (name) => lookAheadWeights.get(name), clip, mask, 20);
      const error = relativeError(result['audio_features']!.data as Float32Array, expected);
      console.info(`audio_encoder right context: ${frames} frames, relative error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(RELATIVE_TOLERANCE);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
