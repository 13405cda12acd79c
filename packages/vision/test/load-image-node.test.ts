import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { InputError, UnsupportedError } from '@gemma3n/core';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeImageLoader, loadImage, pixelValues } from '../src/node';

const folder = mkdtempSync(join(tmpdir(), 'gemma3n-vision-load-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** 4×2 RGB pixels, every one different. */
const pixels = Uint8Array.from([
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0],
  [0, 255, 255], [255, 0, 255], [17, 34, 51], [250, 128, 3],
].flat());
const rawRgb = { raw: { width: 4, height: 2, channels: 3 as const } };

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC-32 of type + data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Catches a rejection so its class, message and cause can be inspected. */
async function rejection(promise: Promise<unknown>): Promise<Error & { cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('loadImage (Node, sharp)', () => {
  it('decodes a PNG file from a path and from a file: URL, pixel for pixel', async () => {
    const path = join(folder, 'four-by-two.png');
    writeFileSync(path, await sharp(pixels, rawRgb).png().toBuffer());
    for (const source of [path, pathToFileURL(path)]) {
      const image = await loadImage(source);
      expect([image.width, image.height, image.channels]).toEqual([4, 2, 3]);
      expect(Array.from(image.data)).toEqual(Array.from(pixels));
    }
  });

  it('keeps alpha for RGBA PNGs (pixelValues drops it later) and expands grey to RGB', async () => {
    const rgba = Uint8Array.from([255, 0, 0, 0, 0, 255, 0, 128]);
    const image = await loadImage(await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer());
    expect(image.channels).toBe(4);
    expect(Array.from(image.data)).toEqual(Array.from(rgba));
    const grey = await loadImage(await sharp(Uint8Array.from([0, 90, 255]), { raw: { width: 3, height: 1, channels: 1 } }).png().toBuffer());
    expect([grey.channels, ...grey.data]).toEqual([3, 0, 0, 0, 90, 90, 90, 255, 255, 255]);
  });

  it('decodes lossless WebP exactly and JPEG closely, from bytes and ArrayBuffers', async () => {
    const webp = await loadImage(await sharp(pixels, rawRgb).webp({ lossless: true }).toBuffer());
    expect(Array.from(webp.data)).toEqual(Array.from(pixels));
    const flat = new Uint8Array(16 * 16 * 3).fill(0).map((_, index) => [200, 100, 50][index % 3] as number);
    const jpegBytes = await sharp(flat, { raw: { width: 16, height: 16, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    const jpeg = await loadImage(jpegBytes.buffer.slice(jpegBytes.byteOffset, jpegBytes.byteOffset + jpegBytes.byteLength));
    expect([jpeg.width, jpeg.height, jpeg.channels]).toEqual([16, 16, 3]);
    jpeg.data.forEach((value, index) => expect(Math.abs(value - (flat[index] as number))).toBeLessThanOrEqual(3));
  });

  it('returns the first frame of an animated GIF', async () => {
    const white = new Uint8Array(4 * 2 * 4).fill(255);
    const black = new Uint8Array(4 * 2 * 4).map((_, index) => (index % 4 === 3 ? 255 : 0));
    const gif = await sharp(Buffer.concat([white, black]), { raw: { width: 4, height: 4, channels: 4, pageHeight: 2 } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await loadImage(gif);
    expect([image.width, image.height]).toEqual([4, 2]);
    expect(Array.from(image.data).every((value) => value === 255)).toBe(true);
  });

  it('applies EXIF orientation (6 = rotate 90° clockwise to display)', async () => {
    // 16×8, left half red, right half blue. Displayed: 8×16 with red on top, blue below.
    const landscape = new Uint8Array(16 * 8 * 3);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) landscape.set(x < 8 ? [255, 0, 0] : [0, 0, 255], (y * 16 + x) * 3);
    const jpeg = await sharp(landscape, { raw: { width: 16, height: 8, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const image = await loadImage(jpeg);
    expect([image.width, image.height]).toEqual([8, 16]);
    const at = (x: number, y: number) => Array.from(image.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    expect(at(4, 3)[0]).toBeGreaterThan(240); // top: red
    expect(at(4, 3)[2]).toBeLessThan(15);
    expect(at(4, 12)[2]).toBeGreaterThan(240); // bottom: blue
    expect(at(4, 12)[0]).toBeLessThan(15);
  });

  it('reduces 16-bit PNGs to their high byte, as PIL does', async () => {
    // Big-endian 16-bit samples; PIL opens 16-bit RGB PNGs as 8-bit RGB holding the high bytes.
    const samples = [0x1234, 0xabcd, 0xff00, 0x00ff, 0x8080, 0x7f7f];
    const scanline = Buffer.alloc(1 + samples.length * 2); // filter byte 0, then the samples
    samples.forEach((sample, index) => scanline.writeUInt16BE(sample, 1 + index * 2));
    const header = Buffer.alloc(13);
    header.writeUInt32BE(2, 0);
    header.writeUInt32BE(1, 4);
    header.set([16, 2, 0, 0, 0], 8); // 16-bit, RGB
    const png = Buffer.concat([pngSignature, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(scanline)), pngChunk('IEND', Buffer.alloc(0))]);
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const image = await loadImage(png);
    expect(Array.from(image.data)).toEqual([0x12, 0xab, 0xff, 0x00, 0x80, 0x7f]);
  });

  it('feeds pixelValues end to end', async () => {
    const image = await loadImage(await sharp(pixels, rawRgb).png().toBuffer());
    const result = pixelValues([image], { size: { height: 2, width: 4 } });
    expect(result.dims).toEqual([1, 3, 2, 4]);
    expect(result.data[0]).toBe(1); // red of the first pixel
    expect(result.data[8]).toBe(0); // its green, first value of the green plane
  });
});

describe('loadImage errors', () => {
  it('names a truncated PNG or JPEG and keeps sharp’s error as the cause', async () => {
    const png = await sharp(new Uint8Array(64 * 64 * 3).map((_, index) => (index * 7) % 256), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    const jpeg = await sharp(new Uint8Array(64 * 64 * 3).map((_, index) => (index * 7) % 256), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    for (const [format, bytes] of [['PNG', png], ['JPEG', jpeg]] as const) {
      const path = join(folder, `truncated.${format.toLowerCase()}`);
      writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const error = await rejection(loadImage(path));
      expect(InputError.isInstance(error)).toBe(true);
      expect(error.message).toContain(`Cannot decode ${format} image "${path}": `);
      expect(error.cause).toBeInstanceOf(Error);
    }
  });

  it('names corrupt data behind a valid signature', async () => {
    const bytes = Buffer.concat([pngSignature, Buffer.alloc(100, 7)]);
    const error = await rejection(loadImage(bytes));
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/^Cannot decode PNG image \(108 bytes\): /);
  });

  it('refuses a zero-size image (a PNG header declaring 0×0)', async () => {
    const header = Buffer.alloc(13);
    header.set([8, 2, 0, 0, 0], 8); // width 0, height 0, 8-bit RGB
    const png = Buffer.concat([pngSignature, pngChunk('IHDR', header), pngChunk('IEND', Buffer.alloc(0))]);
    const error = await rejection(loadImage(png));
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/^Cannot decode PNG image \(\d+ bytes\): /);
  });

  it('refuses empty input, missing files and directories with InputError', async () => {
    await expect(loadImage(new Uint8Array(0))).rejects.toThrow('source is "(0 bytes)"; expected a non-empty image file (got 0 bytes)');
    const missing = join(folder, 'nope.png');
    await expect(loadImage(missing)).rejects.toThrow(`Image file "${missing}" does not exist (ENOENT)`);
    await expect(loadImage(folder)).rejects.toThrow(`Image file "${folder}" is a directory (EISDIR)`);
    await expect(loadImage(42 as never)).rejects.toThrow(InputError);
  });

  it('refuses other formats and http URLs with UnsupportedError naming them', async () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
    await expect(loadImage(svg)).rejects.toThrow('Unsupported image format for (83 bytes): SVG; supported: PNG, JPEG, GIF, WebP');
    const tiff = await sharp(pixels, rawRgb).tiff().toBuffer();
    const error = await rejection(loadImage(tiff));
    expect(UnsupportedError.isInstance(error)).toBe(true);
    expect(error.message).toContain(': TIFF;');
    await expect(loadImage(Buffer.from('hello, world'))).rejects.toThrow('unrecognised data (first bytes: 68 65 6c 6c 6f 2c 20 77)');
    await expect(loadImage(new URL('https://example.com/cat.png'))).rejects.toThrow(/does not fetch https: URLs/);
  });

  it('explains a missing sharp on first use and retries on the next call', async () => {
    let attempts = 0;
    const load = createNodeImageLoader(async () => {
      attempts++;
      throw new Error("Cannot find package 'sharp' imported from /app/index.js");
    });
    const png = await sharp(pixels, rawRgb).png().toBuffer();
    const error = await rejection(load(png));
    expect(UnsupportedError.isInstance(error)).toBe(true);
    expect(error.message).toContain('needs the optional peer dependency "sharp"');
    expect(error.message).toContain('npm install sharp');
    await rejection(load(png));
    expect(attempts).toBe(2);
  });
});
