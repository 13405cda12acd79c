import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import { AutoProcessor, env, Gemma3nForConditionalGeneration, RawImage } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceVisionEncoder } from '../../../reference/src/vision/reference-vision-encoder';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { tinyShapeConfig } from '../checkpoint/tiny-text-shapes';
import { writeRandomCheckpoint } from '../checkpoint/write-random-checkpoint';
import { convertCheckpoint } from '../convert-checkpoint';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import { visionArchitectureFromConfig } from './mobilenet-v5-architecture';
import { randomVisionTowerWeights, withVisionArchitecture } from './random-vision-weights';
import { writeVisionEncoderGraph } from './vision-encoder-graph';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vision-transformers-js-'));
  env.allowRemoteModels = false;
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * transformers.js loads every session of Gemma3nForConditionalGeneration, audio included, and
 * the audio encoder is not built yet. This stand-in declares the contract's audio inputs and
 * returns zeros; the test never passes audio, so it is never run.
 */
async function writeStandInAudioEncoder(onnxDir: string, textHidden: number): Promise<void> {
  await writeOnnxModel({ directory: onnxDir, fileName: 'audio_encoder.onnx' }, (graph) => {
    graph.input('input_features', 'float32', [1, 'frames', 128]);
    graph.input('input_features_mask', 'bool', [1, 'frames']);
    const zeros = graph.node('ConstantOfShape', [graph.int64([1, 188, textHidden])])[0]!; // float32 zeros
    graph.output(zeros, 'audio_features', 'float32', [1, 188, textHidden]);
  });
}

describe('vision_encoder.onnx in transformers.js', () => {
  it('loads with the folder, gets pixel_values from its processor and returns the reference features', async () => {
    const seed = 21;
    const raw = withVisionArchitecture(tinyShapeConfig('tiny-mha-every-5'));
    const checkpointDir = join(root, 'checkpoint');
    const folder = join(root, 'model');
    await writeRandomCheckpoint(checkpointDir, raw, { seed });
    await convertCheckpoint(checkpointDir, folder);
    const config = parseGemma3nConfig(raw);
    const architecture = visionArchitectureFromConfig(config.vision!);
    const weights = randomVisionTowerWeights(architecture, { seed, target: randomCheckpointWeights(raw, { seed }) });
    await writeVisionEncoderGraph(config, weights, join(folder, 'onnx'));
    await writeStandInAudioEncoder(join(folder, 'onnx'), config.text.hiddenSize);
    // The tiny tower takes 96×96 images (the converter writes the release's 768×768).
    const preprocessorPath = join(folder, 'preprocessor_config.json');
    const preprocessor = JSON.parse(await readFile(preprocessorPath, 'utf8')) as Record<string, unknown>;
    await writeFile(preprocessorPath, JSON.stringify({ ...preprocessor, size: { height: 96, width: 96 } }));

    const processor = await AutoProcessor.from_pretrained(folder, { local_files_only: true });
    const model = await Gemma3nForConditionalGeneration.from_pretrained(folder, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    try {
      const width = 120;
      const height = 80;
      const rgb = new Uint8ClampedArray(width * height * 3).map((_, index) => (index * 37 + Math.floor(index / 360) * 11) % 256);
      const image = new RawImage(rgb, width, height, 3);
      const prompt = processor.apply_chat_template([{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Describe.' }] }], { add_generation_prompt: true });
      const inputs = await processor(prompt, image, null, { add_special_tokens: false });
      const pixelValues = inputs.pixel_values as { dims: number[]; data: Float32Array };
      expect(pixelValues.dims).toEqual([1, 3, 96, 96]);
      const ids = (inputs.input_ids.tolist() as bigint[][])[0]!.map(Number);
      expect(ids.filter((id) => id === config.imageTokenId)).toHaveLength(4);

      const features = (await model.encode_image({ pixel_values: inputs.pixel_values })) as { dims: number[]; data: Float32Array };
      expect(features.dims).toEqual([1, 4, config.text.hiddenSize]);
      const expected = referenceVisionEncoder(config, architecture, (name) => weights.get(name), pixelValues.data, 1);
      let difference = 0;
      let magnitude = 0;
      expected.forEach((value, index) => {
        difference = Math.max(difference, Math.abs(features.data[index]! - value));
        magnitude = Math.max(magnitude, Math.abs(value));
      });
      expect(difference / magnitude).toBeLessThan(1e-4);

      // And generation with the image runs: the 4 image rows replace the 4 soft tokens.
      const output = (await model.generate({ ...inputs, max_new_tokens: 3, do_sample: false })) as { dims: number[] };
      expect(output.dims).toEqual([1, ids.length + 3]);
    } finally {
      await model.dispose();
    }
  });
});
