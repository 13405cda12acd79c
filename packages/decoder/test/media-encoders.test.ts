import { describe, expect, it } from 'vitest';
import { Tensor, type InferenceSession } from 'onnxruntime-common';
import { type Backend, MemoryModelFiles, ModelFileError, parseGemma3nConfig } from '@gemma3n/core';
import { MediaEncoders } from '../src/media/media-encoders';

const config = parseGemma3nConfig({ model_type: 'gemma3n', 'transformers.js_config': { dtype: { vision_encoder: 'fp16' } } });

/** A backend whose "vision encoder" returns 2 rows of width 3 per image: [sum of pixels, index, 7]. */
function fakeBackend() {
  const opened: string[] = [];
  const batches: number[] = [];
  const backend: Backend = {
    name: 'fake',
    isAvailable: () => true,
    async createSession(model) {
      const name = model.type === 'bytes' ? model.name ?? '' : model.path;
      opened.push(name);
      const isVision = name.includes('vision');
      return {
        inputNames: isVision ? ['pixel_values'] : ['input_features', 'input_features_mask'],
        outputNames: [isVision ? 'image_features' : 'audio_features'],
        async run(feeds: Record<string, Tensor>) {
          if (isVision) {
            const pixels = feeds.pixel_values!;
            batches.push(pixels.dims[0]!);
            const sum = (pixels.data as Float32Array).reduce((total, value) => total + value, 0);
            return { image_features: new Tensor('float32', Float32Array.of(sum, 0, 7, sum, 1, 7), [1, 2, 3]) };
          }
          const mask = feeds.input_features_mask!;
          expect(mask.type).toBe('bool');
          const valid = Array.from(mask.data as Uint8Array).filter(Boolean).length;
          return { audio_features: new Tensor('float32', Float32Array.of(valid, feeds.input_features!.dims[1]!), [1, 1, 2]) };
        },
      } as unknown as InferenceSession;
    },
  };
  return { backend, opened, batches };
}

describe('MediaEncoders', () => {
  it('opens nothing until asked, then the dtype-suffixed file once, and encodes images one at a time', async () => {
    const { backend, opened, batches } = fakeBackend();
    const files = new MemoryModelFiles({ 'onnx/vision_encoder_fp16.onnx': new Uint8Array(0), 'onnx/audio_encoder.onnx': new Uint8Array(0) });
    const encoders = new MediaEncoders({ files, backend, config });
    expect(opened).toEqual([]);
    const data = Float32Array.of(1, 2, 3, 4, 10, 20, 30, 40);
    const encoded = await encoders.encodeImages({ data, dims: [2, 1, 2, 2] });
    expect(batches).toEqual([1, 1]);
    expect(encoded.rowCount).toBe(4);
    expect(encoded.hidden).toBe(3);
    expect(Array.from(encoded.rows)).toEqual([10, 0, 7, 10, 1, 7, 100, 0, 7, 100, 1, 7]);
    await encoders.encodeImages({ data: data.subarray(0, 4), dims: [1, 1, 2, 2] });
    expect(opened).toEqual(['onnx/vision_encoder_fp16.onnx']);

    const audio = await encoders.encodeAudio({ features: new Float32Array(6), frames: 3, featureSize: 2, mask: Uint8Array.of(1, 1, 0) });
    expect(Array.from(audio.rows)).toEqual([2, 3]);
    expect(opened).toEqual(['onnx/vision_encoder_fp16.onnx', 'onnx/audio_encoder.onnx']);
  });

  it('reports a folder without the encoder as a ModelFileError naming the file', async () => {
    const { backend } = fakeBackend();
    const encoders = new MediaEncoders({ files: new MemoryModelFiles({}, 'memory:text-only'), backend, config });
    const error = await encoders.encodeAudio({ features: new Float32Array(2), frames: 1, featureSize: 2, mask: Uint8Array.of(1) }).catch((caught: unknown) => caught);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'The prompt has audio, but the model folder memory:text-only has no onnx/audio_encoder.onnx: this folder can only run ' +
        'text prompts (use a folder with the audio_encoder file, or check the dtype option)',
    );
  });
});
