import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFileError, parseGemma3nConfig } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from './checkpoint/random-checkpoint-weights';
import { tinyShapeConfig } from './checkpoint/tiny-text-shapes';
import { writeRandomCheckpoint } from './checkpoint/write-random-checkpoint';
import { convertCheckpoint } from './convert-checkpoint';
import { makeTinyModel } from './convert-make-tiny-model';
import { SafetensorsCheckpoint } from './safetensors/safetensors-checkpoint';
import { writeSafetensorsCheckpoint } from './safetensors/write-safetensors';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-convert-towers-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const readJsonFile = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;

describe('converting a checkpoint with the vision and audio towers', () => {
  it('makeTinyModel("tiny-multimodal") writes the four-file folder with matching processor configs', async () => {
    const folder = join(root, 'multimodal');
    const result = await makeTinyModel(folder, { shape: 'tiny-multimodal', seed: 5 });
    const onnxFiles = (await readdir(join(folder, 'onnx'))).filter((name) => name.endsWith('.onnx')).sort();
    expect(onnxFiles).toEqual(['audio_encoder.onnx', 'decoder_model_merged.onnx', 'embed_tokens.onnx', 'vision_encoder.onnx']);
    expect(result.files).toContain('onnx/vision_encoder.onnx');

    const processor = await readJsonFile(join(folder, 'processor_config.json'));
    expect(processor).toMatchObject({ image_seq_length: 4, audio_seq_length: 188 });
    const preprocessor = await readJsonFile(join(folder, 'preprocessor_config.json'));
    expect(preprocessor).toMatchObject({ size: { height: 96, width: 96 }, image_seq_length: 4, audio_seq_length: 188 });
    const config = await readJsonFile(join(folder, 'config.json'));
    expect(config.vision_soft_tokens_per_image).toBe(4);

    // The encoders run and give what the contract says: [N, 4, D] per image batch, [1, 188, D] per clip.
    const vision = await ort.InferenceSession.create(join(folder, 'onnx/vision_encoder.onnx'));
    const pixels = new ort.Tensor('float32', new Float32Array(2 * 3 * 96 * 96).map((_, index) => (index % 97) / 97), [2, 3, 96, 96]);
    const image = (await vision.run({ pixel_values: pixels })).image_features!;
    expect(image.dims).toEqual([2, 4, 32]);
    const audio = await ort.InferenceSession.create(join(folder, 'onnx/audio_encoder.onnx'));
    const frames = 100;
    const features = new ort.Tensor('float32', new Float32Array(frames * 128).map((_, index) => Math.sin(index)), [1, frames, 128]);
    const mask = new ort.Tensor('bool', new Uint8Array(frames).fill(1), [1, frames]);
    const clip = (await audio.run({ input_features: features, input_features_mask: mask })).audio_features!;
    expect(clip.dims).toEqual([1, 188, 32]);
    await Promise.all([vision.release(), audio.release()]);
  });

  it('keeps text-only checkpoints text-only and their text weights unchanged by the towers option', async () => {
    const raw = tinyShapeConfig('tiny-multimodal');
    const withTowers = randomCheckpointWeights(raw, { seed: 3, includeTowers: true });
    const textOnly = randomCheckpointWeights(raw, { seed: 3 });
    expect(withTowers.names().length).toBeGreaterThan(textOnly.names().length);
    for (const name of textOnly.names()) expect(withTowers.get(name)).toEqual(textOnly.get(name));
    const folder = join(root, 'text-only');
    await makeTinyModel(folder, { shape: 'tiny-multimodal', seed: 3, towers: false });
    const onnxFiles = (await readdir(join(folder, 'onnx'))).filter((name) => name.endsWith('.onnx')).sort();
    expect(onnxFiles).toEqual(['decoder_model_merged.onnx', 'embed_tokens.onnx']);
  });

  it('rejects a checkpoint with part of a tower, naming the missing tensors', async () => {
    const raw = tinyShapeConfig('tiny-multimodal');
    const checkpointDir = join(root, 'partial-checkpoint');
    const written = await writeRandomCheckpoint(checkpointDir, raw, { seed: 2, includeTowers: true });
    // Rewrite the weights without one vision tensor.
    const dropped = 'model.vision_tower.timm_model.conv_stem.conv.weight';
    const { InMemoryTensorSource } = await import('./tensor-source');
    const partial = new InMemoryTensorSource();
    for (const name of written.weights.names()) {
      if (name !== dropped) partial.set(name, written.weights.info(name).shape, written.weights.get(name));
    }
    await rm(join(checkpointDir, 'model.safetensors'));
    await writeSafetensorsCheckpoint(checkpointDir, partial, { dtype: 'F32', metadata: { format: 'pt' } });
    expect((await SafetensorsCheckpoint.open(checkpointDir)).has(dropped)).toBe(false);
    const error = await convertCheckpoint(checkpointDir, join(root, 'partial-out')).catch((caught: unknown) => caught);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`missing tensor "${dropped}" (expected shape [8, 3, 3, 3])`);
    expect(parseGemma3nConfig(raw).visionSoftTokensPerImage).toBe(4);
  });
});
