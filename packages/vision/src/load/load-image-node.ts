import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InputError, UnsupportedError } from '@gemma3n/core';
import type { ImagePixels } from '../image/image-pixels';
import { detectImageFormat, type ImageFormat, supportedImageFormats } from './image-format';

/** What the Node `loadImage` accepts: a file path, a `file:` URL, or the encoded bytes. */
export type NodeImageSource = string | URL | Uint8Array | ArrayBuffer;

/** The part of sharp this module uses, typed here so that sharp stays an optional peer. */
interface SharpInstance {
  autoOrient(): SharpInstance;
  toColourspace(space: string): SharpInstance;
  raw(): SharpInstance;
  toBuffer(options: { resolveWithObject: true }): Promise<{
    data: Uint8Array;
    info: { width: number; height: number; channels: number; depth?: string };
  }>;
}
type SharpFactory = (input: Uint8Array, options: Record<string, unknown>) => SharpInstance;

/**
 * Builds a `loadImage` around a way of importing sharp, so that a missing sharp is reported
 * when an image is first loaded (not when `@gemma3n/vision/node` is imported) and so tests can
 * stand in for a missing install.
 */
export function createNodeImageLoader(importSharp: () => Promise<unknown>): (source: NodeImageSource) => Promise<ImagePixels> {
  let sharpPromise: Promise<SharpFactory> | undefined;

  const getSharp = (): Promise<SharpFactory> => {
    sharpPromise ??= importSharp().then(
      (module) => {
        const factory = (module as { default?: unknown }).default ?? module;
        if (typeof factory !== 'function') throw new Error('the module has no callable default export');
        return factory as SharpFactory;
      },
      (error: unknown) => {
        sharpPromise = undefined; // let a later call retry once sharp is installed
        throw new UnsupportedError({
          feature: 'image decoding in Node',
          value: 'sharp',
          message:
            'Decoding images in Node needs the optional peer dependency "sharp", which could not be loaded ' +
            `(${error instanceof Error ? error.message : String(error)}). Install it with \`npm install sharp\`, ` +
            'or decode the image yourself and pass { width, height, channels, data } to pixelValues.',
          cause: error,
        });
      },
    );
    return sharpPromise;
  };

  return async function loadImage(source: NodeImageSource): Promise<ImagePixels> {
    const { bytes, description } = await readSource(source);
    if (bytes.byteLength === 0) {
      throw new InputError({ field: 'source', value: description, expected: 'a non-empty image file (got 0 bytes)' });
    }
    const format = detectImageFormat(bytes);
    if (!supportedImageFormats.includes(format as ImageFormat)) {
      throw new UnsupportedError({
        feature: 'image format',
        value: format,
        supported: supportedImageFormats,
        message: `Unsupported image format for ${description}: ${format}; supported: ${supportedImageFormats.join(', ')}`,
      });
    }
    const sharp = await getSharp();
    let decoded: Awaited<ReturnType<SharpInstance['toBuffer']>>;
    try {
      // failOn 'error': refuse truncated or corrupt data instead of returning grey padding.
      // ignoreIcc: PIL does not apply embedded colour profiles, so neither do we.
      // pages/page: the first frame of an animated GIF or WebP.
      decoded = await sharp(bytes, { failOn: 'error', ignoreIcc: true, pages: 1, page: 0 })
        .autoOrient() // EXIF orientation, as HF's load_image applies ImageOps.exif_transpose
        .toColourspace('srgb') // CMYK JPEGs and grey images come out as RGB(A)
        .raw()
        .toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw new InputError({
        field: 'source',
        value: description,
        expected: `a complete, valid ${format} file`,
        message: `Cannot decode ${format} image ${description}: ${error instanceof Error ? error.message.trim() : String(error)}`,
        cause: error,
      });
    }
    return toImagePixels(decoded, description);
  };
}

async function readSource(source: NodeImageSource): Promise<{ bytes: Uint8Array; description: string }> {
  if (source instanceof Uint8Array) return { bytes: source, description: `(${source.byteLength} bytes)` };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), description: `(${source.byteLength} bytes)` };
  let path: string;
  if (source instanceof URL) {
    if (source.protocol !== 'file:') {
      throw new UnsupportedError({
        feature: 'image URL protocol',
        value: source.protocol,
        supported: ['file:'],
        message: `loadImage does not fetch ${source.protocol} URLs (${source.href}); fetch the bytes and pass them as a Uint8Array`,
      });
    }
    path = fileURLToPath(source);
  } else if (typeof source === 'string') {
    if (source.length === 0) throw new InputError({ field: 'source', value: source, expected: 'a file path' });
    path = source;
  } else {
    throw new InputError({
      field: 'source',
      value: source === null ? null : typeof source,
      expected: 'a file path, a file: URL, a Uint8Array/Buffer or an ArrayBuffer',
    });
  }
  try {
    return { bytes: await readFile(path), description: `"${path}"` };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const problem =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'is not readable' : 'could not be read';
    throw new InputError({
      field: 'source',
      value: path,
      expected: 'a readable image file',
      message: `Image file "${path}" ${problem}${code === undefined ? '' : ` (${code})`}`,
      cause: error,
    });
  }
}

function toImagePixels(
  decoded: Awaited<ReturnType<SharpInstance['toBuffer']>>,
  description: string,
): ImagePixels {
  const { width, height, channels, depth } = decoded.info;
  if (width <= 0 || height <= 0) {
    throw new InputError({ field: 'source', value: description, expected: `an image with at least one pixel (got ${width}×${height})` });
  }
  if (channels !== 3 && channels !== 4) {
    throw new UnsupportedError({ feature: 'decoded channel count', value: channels, supported: ['3 (RGB)', '4 (RGBA)'] });
  }
  const count = width * height * channels;
  const { data } = decoded;
  if (depth === undefined || depth === 'uchar') {
    return { width, height, channels, data: new Uint8Array(data.buffer, data.byteOffset, count) };
  }
  // sharp already reduces 16-bit PNGs to their high byte for sRGB output (as PIL does); any
  // other depth would be a sharp behaviour change, reported rather than misread.
  throw new UnsupportedError({ feature: 'decoded sample depth', value: depth, supported: ['uchar'] });
}
