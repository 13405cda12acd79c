import { InputError } from '@gemma3n/core';
import type { ImagePixels } from '@gemma3n/vision';

/**
 * An image: decoded pixels `{ width, height, channels, data }` (any runtime), encoded bytes
 * (PNG, JPEG, WebP, GIF), or — in Node, through `@gemma3n/gemma3n/node` — a file path or
 * `file:` URL. In browsers, whatever `@gemma3n/vision`'s `loadImage` takes (Blob, ImageBitmap,
 * ImageData, canvas, image element) works too.
 */
export type ImageInput = ImagePixels | Uint8Array | ArrayBuffer | string | URL | object;

/** Mono (or already mixed) samples at any rate; resampled to 16 kHz. */
export interface AudioSamplesInput {
  samples: Float32Array | Float64Array | readonly number[];
  sampleRate: number;
}

/** Audio: samples with their rate, WAV bytes, or — in Node — a WAV file path or `file:` URL. */
export type AudioInput = AudioSamplesInput | Uint8Array | ArrayBuffer | string | URL;

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image';
  image: ImageInput;
}

export interface AudioPart {
  type: 'audio';
  audio: AudioInput;
}

export type ContentPart = TextPart | ImagePart | AudioPart;
export type MediaPart = ImagePart | AudioPart;

export function isMediaPart(part: unknown): part is MediaPart {
  const type = (part as { type?: unknown } | null)?.type;
  return type === 'image' || type === 'audio';
}

/** Checks one image or audio part's shape (its content is checked when it is read). */
export function checkMediaPart(part: MediaPart, field: string): void {
  if (part.type === 'image') {
    const image = (part as Partial<ImagePart>).image;
    if (image === undefined || image === null || (typeof image !== 'object' && typeof image !== 'string')) {
      throw new InputError({
        field: `${field}.image`,
        value: image,
        expected: 'an image: pixels { width, height, channels, data }, encoded bytes, or (Node) a file path',
      });
    }
    return;
  }
  const audio = (part as Partial<AudioPart>).audio;
  if (audio === undefined || audio === null || (typeof audio !== 'object' && typeof audio !== 'string')) {
    throw new InputError({
      field: `${field}.audio`,
      value: audio,
      expected: 'audio: { samples, sampleRate }, WAV bytes, or (Node) a WAV file path',
    });
  }
}

/** A warning about an input that was used, but not exactly as given. */
export interface Gemma3nWarning {
  /** `audio-truncated`: a clip over 30 s; the model hears its first 30 s. */
  code: 'audio-truncated';
  message: string;
}
