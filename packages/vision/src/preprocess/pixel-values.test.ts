import { InputError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import type { ImagePixels } from '../image/image-pixels';
import { pixelValues } from './pixel-values';

const float32FromHex = (hex: string) => new DataView(Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16)).buffer).getFloat32(0);

/** A 1-row image of the given RGB triples, kept at its size (doResize false). */
function row(...pixels: Array<[number, number, number]>): ImagePixels {
  return { width: pixels.length, height: 1, channels: 3, data: Uint8Array.from(pixels.flat()) };
}

describe('pixelValues', () => {
  it('lays out [N, 3, H, W] channel planes, rescaled by 1/255 in float32 as torch does', () => {
    const values = [1, 3, 51, 127, 128, 200, 254, 255];
    const image = row(...values.map((value): [number, number, number] => [value, 255 - value, 0]));
    const result = pixelValues([image], { doResize: false, size: { height: 1, width: values.length } });
    expect(result.dims).toEqual([1, 3, 1, 8]);
    // Recorded from torch 1.13: (uint8 tensor * 0.00392156862745098). Several differ in the last
    // bit from float32(v / 255) (e.g. 3 → 3c40c0c2, not 3c40c0c1), so this pins the arithmetic.
    const torch = ['3b808081', '3c40c0c2', '3e4cccce', '3efeff00', '3f008081', '3f48c8ca', '3f7eff00', '3f800000'].map(float32FromHex);
    expect(Array.from(result.data.subarray(0, 8))).toEqual(torch);
    expect(result.data[8]).toBe(Math.fround(254 * Math.fround(1 / 255))); // green plane starts at W·H
    expect(Array.from(result.data.subarray(16, 24))).toEqual(new Array(8).fill(0)); // blue plane
  });

  it('normalises only when asked, with HF’s fused rescale-and-normalise arithmetic', () => {
    const values = [1, 3, 51, 127, 128, 200, 254, 255];
    const image = row(...values.map((value): [number, number, number] => [value, value, value]));
    const result = pixelValues([image], { doResize: false, doNormalize: true, size: { height: 1, width: 8 } });
    // Recorded from torch 1.13: (v − 0.5·(1/factor)) / (0.5·(1/factor)) in float32.
    const torch = [-0.9921568632125854, -0.9764705896377563, -0.6000000238418579, -0.003921568859368563, 0.003921568859368563, 0.5686274766921997, 0.9921568632125854, 1.0];
    expect(Array.from(result.data.subarray(0, 8))).toEqual(torch);
  });

  it('follows NumPy’s rescale and normalise arithmetic for the Pillow path, and transformers.js’s for plain bilinear', () => {
    const values = [1, 3, 51, 127, 128, 200, 254, 255];
    const image = row(...values.map((value): [number, number, number] => [value, value, value]));
    const size = { height: 1, width: 8 };
    // Recorded from NumPy: (uint8.astype(float64) * 0.00392156862745098).astype(float32); these
    // are float32(v / 255) and differ from torch's in the last bit for 3, 51, 127, 200, 254.
    const numpy = ['3b808081', '3c40c0c1', '3e4ccccd', '3efefeff', '3f008081', '3f48c8c9', '3f7efeff', '3f800000'].map(float32FromHex);
    for (const options of [{ antialiasArithmetic: 'pillow' as const }, { resample: 'bilinear' as const }]) {
      expect(Array.from(pixelValues([image], { ...options, doResize: false, size }).data.subarray(0, 8))).toEqual(numpy);
    }
    // Recorded from NumPy: (float32 image − float32 mean) / float32 std; transformers.js gives the same here.
    const normalised = [-0.9921568632125854, -0.9764705896377563, -0.6000000238418579, -0.003921568393707275, 0.003921627998352051, 0.5686274766921997, 0.9921568632125854, 1.0];
    for (const options of [{ antialiasArithmetic: 'pillow' as const }, { resample: 'bilinear' as const }]) {
      expect(Array.from(pixelValues([image], { ...options, doResize: false, doNormalize: true, size }).data.subarray(0, 8))).toEqual(normalised);
    }
  });

  it('drops alpha without compositing, as PIL convert("RGB"): a transparent red pixel stays red', () => {
    const image: ImagePixels = { width: 2, height: 1, channels: 4, data: Uint8Array.from([255, 0, 0, 0, 10, 20, 30, 128]) };
    const result = pixelValues([image], { doResize: false, size: { height: 1, width: 2 } });
    expect(Array.from(result.data)).toEqual([255, 10, 0, 20, 0, 30].map((value) => Math.fround(value * Math.fround(1 / 255))));
  });

  it('replicates grey (and grey + alpha) to three channels; accepts Uint8ClampedArray', () => {
    const grey: ImagePixels = { width: 2, height: 1, channels: 1, data: Uint8ClampedArray.from([0, 255]) };
    const greyAlpha: ImagePixels = { width: 2, height: 1, channels: 2, data: Uint8Array.from([0, 9, 255, 9]) };
    for (const image of [grey, greyAlpha]) {
      const result = pixelValues([image], { doResize: false, size: { height: 1, width: 2 } });
      expect(Array.from(result.data)).toEqual([0, 1, 0, 1, 0, 1]);
    }
  });

  it('resizes every image of a batch to the configured size (768 by default, 512/256 from a config)', () => {
    const small: ImagePixels = { width: 3, height: 2, channels: 3, data: new Uint8Array(18).fill(51) };
    const wide: ImagePixels = { width: 40, height: 10, channels: 4, data: new Uint8Array(1600).fill(102) };
    const result = pixelValues([small, wide]);
    expect(result.dims).toEqual([2, 3, 768, 768]);
    expect(result.data.length).toBe(2 * 3 * 768 * 768);
    const plane = 768 * 768;
    expect(result.data[0]).toBe(Math.fround(51 * Math.fround(1 / 255)));
    expect(result.data[3 * plane + 12345]).toBe(Math.fround(102 * Math.fround(1 / 255)));
    for (const size of [512, 256]) {
      expect(pixelValues([small], { size: { height: size, width: size } }).dims).toEqual([1, 3, size, size]);
    }
  });

  it('rejects bad input with errors that name the image and the field', () => {
    const good: ImagePixels = { width: 2, height: 2, channels: 3, data: new Uint8Array(12) };
    const cases: Array<[unknown, RegExp]> = [
      [[], /images is \[\]; expected at least one image/],
      [[good, { ...good, width: 0 }], /images\[1\]\.width is 0; expected a positive integer/],
      [[{ ...good, channels: 5 }], /images\[0\]\.channels is 5/],
      [[{ ...good, data: new Uint8Array(11) }], /images\[0\]\.data\.length is 11; expected width × height × channels = 2 × 2 × 3 = 12/],
      [[{ ...good, data: new Float32Array(12) }], /images\[0\]\.data .*Uint8Array/],
      [[null], /images\[0\] is null/],
    ];
    for (const [images, message] of cases) {
      expect(() => pixelValues(images as ImagePixels[])).toThrow(InputError);
      expect(() => pixelValues(images as ImagePixels[])).toThrow(message);
    }
    expect(() => pixelValues([good], { doResize: false })).toThrow(/images\[0\] is "2×2"; expected an image of 768×768/);
    expect(() => pixelValues([good], { resample: 'bicubic' as never })).toThrow(/options\.resample is "bicubic"/);
    expect(() => pixelValues([good], { size: { height: 0, width: 3 } })).toThrow(/options\.size/);
    expect(() => pixelValues([good], { doNormalize: true, imageStd: [0.5, 0, 0.5] })).toThrow(/options\.imageStd/);
  });
});
