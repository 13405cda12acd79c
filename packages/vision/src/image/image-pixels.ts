import { InputError } from '@gemma3n/core';

/**
 * A decoded 8-bit image, rows top to bottom, pixels interleaved (HWC): `channels` bytes per pixel.
 * 1 = grey, 2 = grey + alpha, 3 = RGB, 4 = RGBA. This is what `loadImage` returns and what
 * `pixelValues` accepts; `ImageData` from a canvas fits it as is (`channels: 4`).
 */
export interface ImagePixels {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** An RGB image: three bytes per pixel. */
export interface RgbPixels {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
}

/**
 * Checks that `image` is a well-formed `ImagePixels` and throws an `InputError` naming the field
 * (`field` is the caller's name for the image, e.g. `images[2]`) when it is not.
 */
export function assertImagePixels(image: unknown, field = 'image'): asserts image is ImagePixels {
  if (image === null || typeof image !== 'object') {
    throw new InputError({ field, value: image, expected: 'an object { width, height, channels, data }' });
  }
  const candidate = image as Partial<ImagePixels>;
  const { width, height, channels, data } = candidate;
  if (!Number.isInteger(width) || (width as number) <= 0) {
    throw new InputError({ field: `${field}.width`, value: width, expected: 'a positive integer (zero-size images cannot be resized)' });
  }
  if (!Number.isInteger(height) || (height as number) <= 0) {
    throw new InputError({ field: `${field}.height`, value: height, expected: 'a positive integer (zero-size images cannot be resized)' });
  }
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new InputError({ field: `${field}.channels`, value: channels, expected: '1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)' });
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new InputError({
      field: `${field}.data`,
      value: data === null || data === undefined ? data : Object.prototype.toString.call(data),
      expected: 'a Uint8Array or Uint8ClampedArray of 8-bit samples',
    });
  }
  const expectedLength = (width as number) * (height as number) * channels;
  if (data.length !== expectedLength) {
    throw new InputError({
      field: `${field}.data.length`,
      value: data.length,
      expected: `width × height × channels = ${width} × ${height} × ${channels} = ${expectedLength}`,
    });
  }
}

/**
 * Converts any `ImagePixels` to RGB the way Hugging Face does (`convert_to_rgb` →
 * PIL `Image.convert('RGB')`): alpha is **dropped**, not composited over a background, so a fully
 * transparent pixel keeps whatever colour it stores; grey is copied to all three channels.
 * (Some other HF processors, e.g. Idefics2, composite over white first; SigLIP/Gemma 3n do not.)
 * Returns the input itself when it is already RGB in a `Uint8Array`.
 */
export function toRgb(image: ImagePixels): RgbPixels {
  const { width, height, channels, data } = image;
  if (channels === 3 && data instanceof Uint8Array) return { width, height, channels: 3, data };
  const pixelCount = width * height;
  const rgb = new Uint8Array(pixelCount * 3);
  if (channels === 3) {
    rgb.set(data);
  } else if (channels === 4) {
    for (let pixel = 0; pixel < pixelCount; pixel++) {
      rgb[pixel * 3] = data[pixel * 4] as number;
      rgb[pixel * 3 + 1] = data[pixel * 4 + 1] as number;
      rgb[pixel * 3 + 2] = data[pixel * 4 + 2] as number;
    }
  } else {
    for (let pixel = 0; pixel < pixelCount; pixel++) {
      const grey = data[pixel * channels] as number;
      rgb[pixel * 3] = grey;
      rgb[pixel * 3 + 1] = grey;
      rgb[pixel * 3 + 2] = grey;
    }
  }
  return { width, height, channels: 3, data: rgb };
}
