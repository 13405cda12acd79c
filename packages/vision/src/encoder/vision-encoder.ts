import { Tensor, type InferenceSession } from 'onnxruntime-common';
import { type Backend, InputError, type ModelFiles, ModelFileError, type SessionOptions } from '@gemma3n/core';
import type { PixelValues } from '../preprocess/pixel-values';

/** What the encoder needs of a session: onnxruntime's `run`. */
export type VisionEncoderSession = Pick<InferenceSession, 'run'> & { release?(): Promise<void> };

/** Encoder output: `[N, tokensPerImage, hidden]` float32, already projected by `embed_vision`. */
export interface ImageFeatures {
  data: Float32Array;
  dims: [number, number, number];
}

export interface LoadVisionEncoderParams {
  files: ModelFiles;
  backend: Backend;
  /** File suffix of the weights (`''` for fp32, `'_fp16'`, `'_quantized'`, …). */
  suffix?: string;
  sessionOptions?: SessionOptions;
}

/**
 * Runs `onnx/vision_encoder{suffix}.onnx` of a model folder: pixel values `[N, 3, H, W]` in, soft
 * tokens `[N, 256, D]` out (the tokens per image follow the tower: 16×16 for MobileNetV5-300M).
 * Images are encoded one at a time, so memory is that of one image and the result never depends
 * on how images were batched. The umbrella package merges these rows over the
 * `<image_soft_token>` positions; this class is for callers that want the features alone.
 */
export class VisionEncoder {
  constructor(private readonly session: VisionEncoderSession) {}

  static async load(params: LoadVisionEncoderParams): Promise<VisionEncoder> {
    const path = `onnx/vision_encoder${params.suffix ?? ''}.onnx`;
    if (!(await params.files.exists(path))) {
      throw new ModelFileError({ path, location: params.files.location, problem: 'missing' });
    }
    const source =
      params.files.localPath?.(path) !== undefined
        ? { type: 'path' as const, path: params.files.localPath(path)! }
        : { type: 'bytes' as const, bytes: await params.files.readBytes(path), name: path };
    return new VisionEncoder(await params.backend.createSession(source, params.sessionOptions));
  }

  async encode(pixels: PixelValues): Promise<ImageFeatures> {
    const [count, channels, height, width] = pixels.dims;
    const imageSize = channels * height * width;
    if (channels !== 3 || pixels.data.length !== count * imageSize) {
      throw new InputError({
        field: 'pixels',
        value: `dims [${pixels.dims.join(', ')}] with ${pixels.data.length} floats`,
        expected: 'float32 [N, 3, H, W] pixel values (pixelValues(images, options))',
      });
    }
    const parts: Float32Array[] = [];
    let tokens = 0;
    let hidden = 0;
    for (let index = 0; index < count; index++) {
      // A copy, not a view: an engine may read a view's whole buffer from offset 0.
      const image = count === 1 ? pixels.data : pixels.data.slice(index * imageSize, (index + 1) * imageSize);
      const outputs = await this.session.run({ pixel_values: new Tensor('float32', image, [1, 3, height, width]) });
      const features = outputs.image_features;
      if (features === undefined || features.dims.length !== 3) {
        throw new InputError({ field: 'vision_encoder outputs', value: Object.keys(outputs), expected: 'image_features [1, tokens, hidden]' });
      }
      tokens = Number(features.dims[1]);
      hidden = Number(features.dims[2]);
      parts.push(Float32Array.from(features.data as Float32Array));
    }
    const data = new Float32Array(count * tokens * hidden);
    parts.forEach((part, index) => data.set(part, index * tokens * hidden));
    return { data, dims: [count, tokens, hidden] };
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}
