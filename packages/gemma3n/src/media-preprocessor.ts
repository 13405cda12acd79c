import { InputError, type ModelFiles, UnsupportedError } from '@gemma3n/core';
import {
  AudioFeatureExtractor,
  type FeatureOptions,
  featureOptionsFromPreprocessorConfig,
  readWav,
  resample,
} from '@gemma3n/audio';
import type { EncoderAudioFeatures, EncoderPixelValues } from '@gemma3n/decoder';
import {
  assertImagePixels,
  type ImagePixels,
  loadImage as loadBrowserImage,
  pixelValues,
  type PreprocessorOptions,
  preprocessorOptionsFromConfig,
} from '@gemma3n/vision';
import type { AudioInput, AudioSamplesInput, Gemma3nWarning, ImageInput } from './media-inputs';

/**
 * How encoded media are read. The main entry decodes bytes with the browser's decoders and
 * rejects paths; `@gemma3n/gemma3n/node` passes sharp-based decoding and file reading.
 */
export interface MediaLoaders {
  /** Decodes encoded bytes, a path or a platform image object into pixels. */
  loadImage(source: ImageInput): Promise<ImagePixels>;
  /** Reads a file (Node); absent in browsers. */
  readFile?(path: string | URL): Promise<Uint8Array>;
}

export const browserMediaLoaders: MediaLoaders = {
  async loadImage(source) {
    if (typeof source === 'string' || source instanceof URL) {
      throw new UnsupportedError({
        feature: 'image path',
        value: String(source),
        message:
          `Images given as paths or URLs ("${String(source)}") are read only by the Node entry (import { Gemma3n } from "@gemma3n/gemma3n/node"); ` +
          'in a browser, pass the bytes, a Blob, an ImageBitmap or pixels { width, height, channels, data }',
      });
    }
    return loadBrowserImage(source as Parameters<typeof loadBrowserImage>[0]);
  },
};

/** Preprocessing settings beyond preprocessor_config.json. */
export interface MediaPreprocessingOptions {
  /** Overrides of the image settings, e.g. `{ resample: 'bilinear' }` to match transformers.js. */
  image?: Partial<PreprocessorOptions>;
  /** Overrides of the audio feature settings. */
  audio?: Partial<FeatureOptions>;
}

export interface PreprocessedAudio {
  features: EncoderAudioFeatures;
  warnings: Gemma3nWarning[];
}

/**
 * Turns image and audio inputs into encoder inputs the way the model folder's
 * preprocessor_config.json says (vision size and resize; audio feature settings).
 */
export class MediaPreprocessor {
  private constructor(
    private readonly imageOptions: Partial<PreprocessorOptions>,
    private readonly audioExtractor: AudioFeatureExtractor,
    private readonly loaders: MediaLoaders,
  ) {}

  /** Reads preprocessor_config.json when the folder has one (else the Gemma 3n release values). */
  static async load(files: ModelFiles, loaders: MediaLoaders, overrides: MediaPreprocessingOptions = {}): Promise<MediaPreprocessor> {
    const json = (await files.exists('preprocessor_config.json')) ? await files.readJson('preprocessor_config.json') : undefined;
    const imageOptions = json === undefined ? {} : preprocessorOptionsFromConfig(json);
    const audioOptions = json === undefined ? {} : featureOptionsFromPreprocessorConfig(json as Record<string, unknown>);
    return new MediaPreprocessor(
      { ...imageOptions, ...overrides.image },
      new AudioFeatureExtractor({ ...audioOptions, ...overrides.audio }),
      loaders,
    );
  }

  async image(source: ImageInput, field: string): Promise<EncoderPixelValues> {
    const pixels = isPixels(source) ? source : await this.loaders.loadImage(source);
    assertImagePixels(pixels, field);
    if (pixels.width === 0 || pixels.height === 0) {
      throw new InputError({ field, value: `${pixels.width}×${pixels.height}`, expected: 'an image of at least 1×1 pixels' });
    }
    return pixelValues([pixels], this.imageOptions);
  }

  async audio(source: AudioInput, field: string): Promise<PreprocessedAudio> {
    const { samples, sampleRate } = await this.samples(source, field);
    if (samples.length === 0) {
      throw new InputError({ field, value: '0 samples', expected: 'a clip with at least one sample (got empty audio)' });
    }
    const targetRate = this.audioExtractor.options.samplingRate;
    const mono = sampleRate === targetRate ? samples : resample(samples, sampleRate, targetRate);
    const extracted = this.audioExtractor.extract(mono);
    const warnings: Gemma3nWarning[] = [];
    if (extracted.truncated) {
      const seconds = (mono.length / targetRate).toFixed(1);
      const kept = (this.audioExtractor.options.maxLength / targetRate).toFixed(1);
      warnings.push({
        code: 'audio-truncated',
        message: `${field} is ${seconds} s long; Gemma 3n hears at most ${kept} s per clip, so only its first ${kept} s are used (split longer audio into several clips)`,
      });
    }
    return {
      features: { features: extracted.features, frames: extracted.frames, featureSize: extracted.featureSize, mask: extracted.mask },
      warnings,
    };
  }

  private async samples(source: AudioInput, field: string): Promise<AudioSamplesInput> {
    if (typeof source === 'object' && !(source instanceof URL) && 'samples' in source) {
      const { samples, sampleRate } = source;
      if (!(samples instanceof Float32Array || samples instanceof Float64Array || Array.isArray(samples))) {
        throw new InputError({ field: `${field}.samples`, value: samples, expected: 'a Float32Array, Float64Array or array of numbers' });
      }
      if (!(typeof sampleRate === 'number' && Number.isInteger(sampleRate) && sampleRate > 0)) {
        throw new InputError({ field: `${field}.sampleRate`, value: sampleRate, expected: 'a positive integer rate in Hz' });
      }
      return { samples, sampleRate };
    }
    let bytes: Uint8Array | ArrayBuffer;
    if (typeof source === 'string' || source instanceof URL) {
      if (this.loaders.readFile === undefined) {
        throw new UnsupportedError({
          feature: 'audio path',
          value: String(source),
          message:
            `Audio given as a path ("${String(source)}") is read only by the Node entry (@gemma3n/gemma3n/node); ` +
            'in a browser, pass WAV bytes or { samples, sampleRate } (decodeAudioInBrowser from @gemma3n/audio decodes other formats)',
        });
      }
      bytes = await this.loaders.readFile(source);
    } else if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
      bytes = source;
    } else {
      throw new InputError({ field, value: source, expected: 'audio: { samples, sampleRate }, WAV bytes, or (Node) a WAV file path' });
    }
    if (bytes.byteLength === 0) throw new InputError({ field, value: '0 bytes', expected: 'a WAV file (got an empty file)' });
    const wav = readWav(bytes);
    return { samples: wav.samples, sampleRate: wav.sampleRate };
  }
}

function isPixels(source: ImageInput): source is ImagePixels {
  if (source === null || typeof source !== 'object' || source instanceof Uint8Array || source instanceof ArrayBuffer) return false;
  const candidate = source as Partial<ImagePixels>;
  return 'data' in candidate && 'width' in candidate && 'height' in candidate && 'channels' in candidate;
}
