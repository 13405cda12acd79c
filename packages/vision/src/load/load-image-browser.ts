import { InputError, UnsupportedError } from '@gemma3n/core';
import type { ImagePixels } from '../image/image-pixels';

/** What the browser `loadImage` accepts. Encoded bytes go through `createImageBitmap`. */
export type BrowserImageSource =
  | Blob
  | ArrayBuffer
  | Uint8Array
  | ImageBitmap
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas;

/**
 * Decodes an image in a browser or worker into RGBA `ImagePixels` (`channels: 4`).
 * - Encoded input (Blob, bytes) is decoded by `createImageBitmap` with
 *   `imageOrientation: 'from-image'` (EXIF orientation applied, as HF's `load_image` does with
 *   `exif_transpose`), `colorSpaceConversion: 'none'` (no ICC conversion, as PIL) and
 *   `premultiplyAlpha: 'none'`.
 * - Pixels are read back through a 2D `OffscreenCanvas`, the only portable way to read an
 *   `ImageBitmap`. Canvas storage is premultiplied, so semi-transparent pixels lose colour
 *   precision and fully transparent ones read as black; opaque images are exact.
 * - `ImageData` is returned without copying its pixels.
 * Decoding depends on the browser's codecs (PNG, JPEG, GIF first frame, WebP everywhere).
 */
export async function loadImage(source: BrowserImageSource): Promise<ImagePixels> {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    return checkedSize({ width: source.width, height: source.height, channels: 4, data: source.data }, 'ImageData');
  }
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas === 'undefined') {
    throw new UnsupportedError({
      feature: 'runtime for loadImage',
      value: typeof window === 'undefined' ? 'no createImageBitmap/OffscreenCanvas' : 'browser without OffscreenCanvas',
      message:
        'loadImage from @gemma3n/vision needs createImageBitmap and OffscreenCanvas (a browser or worker); in Node import loadImage from @gemma3n/vision/node',
    });
  }
  const description = describeSource(source);
  let bitmap: ImageBitmap;
  const ownsBitmap = !(typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap);
  try {
    if (!ownsBitmap) {
      bitmap = source as ImageBitmap;
    } else {
      const decodable = source instanceof ArrayBuffer || source instanceof Uint8Array ? new Blob([copyBytes(source)]) : source;
      if (decodable instanceof Blob && decodable.size === 0) {
        throw new InputError({ field: 'source', value: description, expected: 'a non-empty encoded image (got 0 bytes)' });
      }
      bitmap = await createImageBitmap(decodable as ImageBitmapSource, {
        imageOrientation: 'from-image',
        colorSpaceConversion: 'none',
        premultiplyAlpha: 'none',
      });
    }
  } catch (error) {
    if (InputError.isInstance(error)) throw error;
    throw new InputError({
      field: 'source',
      value: description,
      expected: 'a decodable PNG, JPEG, GIF or WebP image',
      message: `Cannot decode image (${description}): ${error instanceof Error ? error.message : String(error)}; expected a complete PNG, JPEG, GIF or WebP file`,
      cause: error,
    });
  }
  try {
    const { width, height } = bitmap;
    checkedSize({ width, height, channels: 4, data: new Uint8Array(0) }, description);
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (context === null) {
      throw new UnsupportedError({ feature: 'OffscreenCanvas 2D context', value: null, message: 'OffscreenCanvas.getContext("2d") returned null' });
    }
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, width, height);
    return { width, height, channels: 4, data: pixels.data };
  } finally {
    if (ownsBitmap) bitmap.close();
  }
}

function checkedSize(image: ImagePixels, description: string): ImagePixels {
  if (image.width <= 0 || image.height <= 0) {
    throw new InputError({
      field: 'source',
      value: description,
      expected: `an image with at least one pixel (got ${image.width}×${image.height})`,
    });
  }
  return image;
}

function copyBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array<ArrayBuffer> {
  // A Blob part must not be a view on a SharedArrayBuffer; a copy into a fresh buffer is always safe.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  return copy;
}

function describeSource(source: BrowserImageSource): string {
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = typeof File !== 'undefined' && source instanceof File ? `"${source.name}", ` : '';
    return `Blob ${name}${source.type || 'no type'}, ${source.size} bytes`;
  }
  if (source instanceof ArrayBuffer) return `ArrayBuffer of ${source.byteLength} bytes`;
  if (source instanceof Uint8Array) return `Uint8Array of ${source.byteLength} bytes`;
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) return `<img src="${source.currentSrc || source.src}">`;
  return Object.prototype.toString.call(source).slice(8, -1);
}
