import { InputError, UnsupportedError } from '@gemma3n/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadImage } from './load-image-browser';

/**
 * Node has no createImageBitmap or OffscreenCanvas, so these tests stand in minimal fakes for
 * them and check what this module asks of the platform (decode options, read-back, cleanup,
 * error wrapping). Real decoding is covered by the browser test suite.
 */
class FakeImageData {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}
class FakeImageBitmap {
  closed = false;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {}
  close() {
    this.closed = true;
  }
}

function installPlatform(decode: (source: unknown, options: unknown) => Promise<FakeImageBitmap>) {
  const drawn: unknown[] = [];
  vi.stubGlobal('ImageData', FakeImageData);
  vi.stubGlobal('ImageBitmap', FakeImageBitmap);
  vi.stubGlobal('createImageBitmap', vi.fn(decode));
  vi.stubGlobal(
    'OffscreenCanvas',
    class {
      constructor(
        readonly width: number,
        readonly height: number,
      ) {}
      getContext() {
        return {
          drawImage: (bitmap: unknown) => drawn.push(bitmap),
          getImageData: (_x: number, _y: number, width: number, height: number) =>
            new FakeImageData(new Uint8ClampedArray(width * height * 4).fill(7), width, height),
        };
      }
    },
  );
  return { drawn, createImageBitmap: globalThis.createImageBitmap as unknown as ReturnType<typeof vi.fn> };
}

afterEach(() => vi.unstubAllGlobals());

describe('loadImage (browser)', () => {
  it('decodes bytes through a Blob with EXIF orientation on, reads RGBA back and closes the bitmap', async () => {
    let bitmap: FakeImageBitmap | undefined;
    const platform = installPlatform(async () => (bitmap = new FakeImageBitmap(3, 2)));
    const image = await loadImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    expect([image.width, image.height, image.channels, image.data.length]).toEqual([3, 2, 4, 24]);
    const [source, options] = platform.createImageBitmap.mock.calls[0] as [Blob, unknown];
    expect(source).toBeInstanceOf(Blob);
    expect(source.size).toBe(4);
    expect(options).toEqual({ imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    expect(platform.drawn).toEqual([bitmap]);
    expect(bitmap?.closed).toBe(true);
  });

  it('returns ImageData without copying and leaves a caller’s ImageBitmap open', async () => {
    installPlatform(async () => new FakeImageBitmap(1, 1));
    const pixels = new FakeImageData(new Uint8ClampedArray(8), 2, 1);
    const image = await loadImage(pixels as unknown as ImageData);
    expect(image.data).toBe(pixels.data);
    const own = new FakeImageBitmap(2, 2);
    await loadImage(own as unknown as ImageBitmap);
    expect(own.closed).toBe(false);
  });

  it('wraps a decode failure in an InputError naming the source and keeping the cause', async () => {
    const failure = new Error('The source image could not be decoded.');
    installPlatform(async () => {
      throw failure;
    });
    const blob = new Blob([new Uint8Array(10)], { type: 'image/png' });
    const error = (await loadImage(blob).catch((caught: unknown) => caught)) as InputError;
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'Cannot decode image (Blob image/png, 10 bytes): The source image could not be decoded.; expected a complete PNG, JPEG, GIF or WebP file',
    );
    expect(error.cause).toBe(failure);
  });

  it('refuses empty input and zero-size bitmaps', async () => {
    installPlatform(async () => new FakeImageBitmap(0, 5));
    await expect(loadImage(new ArrayBuffer(0))).rejects.toThrow('expected a non-empty encoded image (got 0 bytes)');
    await expect(loadImage(new Uint8Array([1, 2, 3]))).rejects.toThrow('expected an image with at least one pixel (got 0×5)');
  });

  it('says where to look when the platform has no createImageBitmap (e.g. Node)', async () => {
    const error = (await loadImage(new Uint8Array([1])).catch((caught: unknown) => caught)) as UnsupportedError;
    expect(UnsupportedError.isInstance(error)).toBe(true);
    expect(error.message).toContain('import loadImage from @gemma3n/vision/node');
  });
});
