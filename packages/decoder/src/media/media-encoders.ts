import { Tensor } from 'onnxruntime-common';
import { type Backend, BackendError, type Gemma3nConfig, InputError, type ModelFiles, ModelFileError, type SessionOptions } from '@gemma3n/core';
import { modelSourceOf } from '../loading/load-decoder-runtime';
import { type DtypeChoice, dtypeFor, type EncoderSessionName, onnxFileName } from '../loading/onnx-file-names';
import type { ModelSession } from '../runtime/model-session';
import { readFloats } from '../runtime/tensor-data';

/** The vision encoder's input for N images: float32 `[N, 3, height, width]`, channels first. */
export interface EncoderPixelValues {
  data: Float32Array;
  dims: readonly [number, number, number, number];
}

/** Log-mel features of one clip: `frames × featureSize` floats and a validity mask (1 = real frame). */
export interface EncoderAudioFeatures {
  features: Float32Array;
  frames: number;
  featureSize: number;
  mask: Uint8Array;
}

/** Encoder output rows: `rowCount × hidden` float32. */
export interface EncodedRows {
  rows: Float32Array;
  rowCount: number;
  hidden: number;
  milliseconds: number;
}

export interface MediaEncodersParams {
  files: ModelFiles;
  backend: Backend;
  config: Gemma3nConfig;
  dtype?: DtypeChoice;
  sessionOptions?: SessionOptions;
  /** Sessions to use instead of opening the folder's files (tests). */
  sessions?: Partial<Record<EncoderSessionName, ModelSession>>;
}

const descriptions: Record<EncoderSessionName, string> = {
  vision_encoder: 'image',
  audio_encoder: 'audio',
};

/**
 * The vision and audio encoders of a model folder, each opened on first use only: a text-only
 * prompt never loads them, and a folder without them serves text prompts as before. A prompt
 * with an image (or audio) and a folder without the encoder is a ModelFileError naming the
 * missing file.
 */
export class MediaEncoders {
  private readonly sessions = new Map<EncoderSessionName, Promise<ModelSession>>();

  constructor(private readonly params: MediaEncodersParams) {
    for (const [name, session] of Object.entries(params.sessions ?? {})) {
      if (session !== undefined) this.sessions.set(name as EncoderSessionName, Promise.resolve(session));
    }
  }

  /** The file a session is (or would be) loaded from, e.g. `onnx/vision_encoder_fp16.onnx`. */
  fileName(name: EncoderSessionName): string {
    return onnxFileName(name, dtypeFor(name, this.params.dtype, this.params.config.raw));
  }

  /** Encodes images one at a time (memory stays that of one image; results do not depend on batching). */
  async encodeImages(pixelValues: EncoderPixelValues): Promise<EncodedRows> {
    const [count, channels, height, width] = pixelValues.dims;
    const imageSize = channels * height * width;
    if (pixelValues.data.length !== count * imageSize) {
      throw new InputError({ field: 'pixelValues.data', value: pixelValues.data.length, expected: `${count * imageSize} floats for dims [${pixelValues.dims.join(', ')}]` });
    }
    const session = await this.session('vision_encoder');
    const start = now();
    const parts: Float32Array[] = [];
    let rowCount = 0;
    let hidden = 0;
    for (let index = 0; index < count; index++) {
      // A copy unless it is the whole buffer: an engine may read a view's buffer from offset 0.
      const image = count === 1 ? pixelValues.data : pixelValues.data.slice(index * imageSize, (index + 1) * imageSize);
      const outputs = await this.run(session, 'vision_encoder', {
        pixel_values: new Tensor('float32', image, [1, channels, height, width]),
      });
      const features = this.output(outputs, 'vision_encoder', 'image_features');
      parts.push(readFloats(features, 0, features.size));
      rowCount += features.dims[1]!;
      hidden = features.dims[2]!;
    }
    return { rows: concatenate(parts), rowCount, hidden, milliseconds: now() - start };
  }

  /** Encodes one clip (`audio_features` `[1, audio_seq_length, D]`). */
  async encodeAudio(audio: EncoderAudioFeatures): Promise<EncodedRows> {
    if (audio.frames < 1) {
      throw new InputError({ field: 'audio', value: `${audio.frames} frames`, expected: 'at least one feature frame (a clip of at least 32 ms)' });
    }
    const session = await this.session('audio_encoder');
    const start = now();
    const outputs = await this.run(session, 'audio_encoder', {
      input_features: new Tensor('float32', audio.features, [1, audio.frames, audio.featureSize]),
      input_features_mask: new Tensor('bool', Uint8Array.from(audio.mask, (value) => (value ? 1 : 0)), [1, audio.frames]),
    });
    const features = this.output(outputs, 'audio_encoder', 'audio_features');
    return {
      rows: readFloats(features, 0, features.size),
      rowCount: features.dims[1]!,
      hidden: features.dims[2]!,
      milliseconds: now() - start,
    };
  }

  async release(): Promise<void> {
    const opened = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(opened.map(async (promise) => (await promise.catch(() => undefined))?.release?.()));
  }

  private session(name: EncoderSessionName): Promise<ModelSession> {
    let session = this.sessions.get(name);
    if (session === undefined) {
      session = this.open(name);
      this.sessions.set(name, session);
      // A failed open is not remembered: the user may add the file and try again.
      session.catch(() => this.sessions.delete(name));
    }
    return session;
  }

  private async open(name: EncoderSessionName): Promise<ModelSession> {
    const { files, backend } = this.params;
    const path = this.fileName(name);
    if (!(await files.exists(path))) {
      throw new ModelFileError({
        path,
        location: files.location,
        problem: 'missing',
        message:
          `The prompt has ${descriptions[name] === 'image' ? 'an image' : 'audio'}, but the model folder ${files.location} has no ` +
          `${path}: this folder can only run text prompts (use a folder with the ${name} file, or check the dtype option)`,
      });
    }
    return backend.createSession(await modelSourceOf(files, path), this.params.sessionOptions);
  }

  private async run(session: ModelSession, name: EncoderSessionName, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const missing = Object.keys(feeds).filter((input) => !session.inputNames.includes(input));
    if (missing.length > 0) {
      throw new ModelFileError({
        path: this.fileName(name),
        problem: 'unreadable',
        message: `Model file "${this.fileName(name)}" is not a Gemma 3n ${name}: input ${missing.join(', ')} missing (it declares ${session.inputNames.join(', ')})`,
      });
    }
    try {
      return await session.run(feeds);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BackendError({
        message: `Running "${this.fileName(name)}" failed`,
        failures: [{ backend: this.params.backend.name, reason, cause: error }],
        cause: error,
      });
    }
  }

  private output(outputs: Record<string, Tensor>, name: EncoderSessionName, output: string): Tensor {
    const tensor = outputs[output];
    if (tensor === undefined || tensor.dims.length !== 3) {
      throw new ModelFileError({
        path: this.fileName(name),
        problem: 'unreadable',
        message: `Model file "${this.fileName(name)}" gave no ${output} output of shape [batch, tokens, hidden]`,
      });
    }
    return tensor;
  }
}

function concatenate(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const result = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
