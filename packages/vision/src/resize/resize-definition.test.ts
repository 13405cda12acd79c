import { describe, expect, it } from 'vitest';
import type { RgbPixels } from '../image/image-pixels';
import { antialiasAxisFloat64 } from './resample-axis';
import { resizeRgb } from './resize-image';
import { resampleFloat } from './separable-resize';

/**
 * The antialiased bilinear resize written straight from its definition, in float64, as a 2-D
 * sum (not separable, no precomputed tables): output pixel (X, Y) is centred on input
 * ((X + 0.5)·sx, (Y + 0.5)·sy); input pixel (x, y), centred on (x + 0.5, y + 0.5), weighs
 * tri((x + 0.5 − cx) / max(sx, 1)) · tri((y + 0.5 − cy) / max(sy, 1)); weights are normalised
 * over the pixels inside the image. Windows are the pixels with a non-zero weight, which is the
 * same set as the `trunc(centre ± support + 0.5)` bounds of Pillow and PyTorch.
 */
function referenceResize(image: { width: number; height: number; channels: number; data: ArrayLike<number> }, outWidth: number, outHeight: number): Float64Array {
  const triangle = (t: number) => Math.max(0, 1 - Math.abs(t));
  const scaleX = image.width / outWidth;
  const scaleY = image.height / outHeight;
  const stretchX = Math.max(scaleX, 1);
  const stretchY = Math.max(scaleY, 1);
  const result = new Float64Array(outWidth * outHeight * image.channels);
  for (let outY = 0; outY < outHeight; outY++) {
    const centreY = (outY + 0.5) * scaleY;
    for (let outX = 0; outX < outWidth; outX++) {
      const centreX = (outX + 0.5) * scaleX;
      for (let channel = 0; channel < image.channels; channel++) {
        let sum = 0;
        let total = 0;
        for (let y = 0; y < image.height; y++) {
          const weightY = triangle((y + 0.5 - centreY) / stretchY);
          if (weightY === 0) continue;
          for (let x = 0; x < image.width; x++) {
            const weight = weightY * triangle((x + 0.5 - centreX) / stretchX);
            sum += weight * (image.data[(y * image.width + x) * image.channels + channel] as number);
            total += weight;
          }
        }
        result[(outY * outWidth + outX) * image.channels + channel] = sum / total;
      }
    }
  }
  return result;
}

function grey(width: number, height: number, values: number[]) {
  return { width, height, channels: 1, data: Float64Array.from(values) };
}

function resizeFloat64(image: { width: number; height: number; channels: number; data: ArrayLike<number> }, outWidth: number, outHeight: number) {
  return resampleFloat(image, antialiasAxisFloat64(image.width, outWidth), antialiasAxisFloat64(image.height, outHeight), false).data;
}

/** Deterministic bytes (xorshift32), so failures reproduce. */
function randomRgb(width: number, height: number, seed: number): RgbPixels {
  let state = seed >>> 0 || 1;
  const data = new Uint8Array(width * height * 3);
  for (let index = 0; index < data.length; index++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    data[index] = state & 255;
  }
  return { width, height, channels: 3, data };
}

const largestDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let index = 0; index < a.length; index++) largest = Math.max(largest, Math.abs((a[index] as number) - (b[index] as number)));
  return largest;
};

describe('antialiased bilinear, hand-computed cases', () => {
  it('4×4 → 2×2: each output averages 3 of 4 inputs with weights 3/7, 3/7, 1/7 (edge renormalised)', () => {
    // Value = 4·row + column. Output 0 along an axis is centred on 1.0 with support 2: inputs 0,1,2
    // at distances 0.5, 0.5, 1.5 weigh 0.75, 0.75, 0.25 (input −1 would weigh 0.25 but is
    // outside), normalised by 1.75 → row mean 5/7; output 1 → 16/7. 2-D: 4·(row) + (column).
    const image = grey(4, 4, Array.from({ length: 16 }, (_, index) => index));
    const result = resizeFloat64(image, 2, 2);
    const expected = [25 / 7, 36 / 7, 69 / 7, 80 / 7]; // torch 1.13 prints 3.5714, 5.1429, 9.8571, 11.4286
    expected.forEach((value, index) => expect(result[index]).toBeCloseTo(value, 12));
  });

  it('2×2 → 4×4: plain bilinear at centres 0.25, 0.75, 1.25, 1.75, edges clamp to the first/last pixel', () => {
    // 1-D [a, b] → [a, 0.75a + 0.25b, 0.25a + 0.75b, b].
    const image = grey(2, 2, [0, 100, 200, 40]);
    const result = Array.from(resizeFloat64(image, 4, 4));
    const expected = [
      [0, 25, 75, 100],
      [50, 58.75, 76.25, 85],
      [150, 126.25, 78.75, 55],
      [200, 160, 80, 40],
    ].flat();
    expected.forEach((value, index) => expect(result[index]).toBeCloseTo(value, 12));
  });

  it('a constant image stays constant, in every arithmetic, up and down', () => {
    const data = new Uint8Array(37 * 23 * 3).fill(173);
    const image: RgbPixels = { width: 37, height: 23, channels: 3, data };
    for (const antialiasArithmetic of ['torchvision-float32', 'torchvision-uint8', 'pillow'] as const) {
      for (const [width, height] of [[5, 3], [768, 768], [37, 11], [100, 23]]) {
        const result = resizeRgb(image, { width: width as number, height: height as number, antialiasArithmetic });
        expect(result.data.every((value) => value === 173)).toBe(true);
      }
    }
    const plain = resizeRgb(image, { width: 16, height: 10, resample: 'bilinear' });
    expect(plain.data.every((value) => value === 173)).toBe(true);
  });

  it('a linear ramp stays linear in the interior for upscales and integer downscales', () => {
    // Interior outputs see a full, symmetric window, so a linear input maps to its value at the
    // output centre: f(x) = 3x + 7 sampled at pixel centres gives 3·(centre − 0.5) + 7.
    const width = 48;
    const ramp = grey(width, 1, Array.from({ length: width }, (_, x) => 3 * x + 7));
    for (const outWidth of [24, 16, 12, 96, 100, 131]) {
      const result = resizeFloat64(ramp, outWidth, 1);
      const scale = width / outWidth;
      const support = Math.max(scale, 1);
      for (let x = 0; x < outWidth; x++) {
        const centre = (x + 0.5) * scale;
        if (centre - support < 0 || centre + support > width) continue; // window touches an edge
        expect(result[x]).toBeCloseTo(3 * (centre - 0.5) + 7, 9);
      }
    }
  });
});

describe('antialiased bilinear against the float64 definition', () => {
  const cases: Array<[number, number, number, number]> = [
    [23, 17, 8, 5],
    [9, 7, 20, 15],
    [31, 12, 10, 30],
    [61, 45, 16, 16],
    [17, 29, 17, 11],
  ];

  for (const [width, height, outWidth, outHeight] of cases) {
    const image = randomRgb(width, height, width * 1000 + height);
    const reference = referenceResize(image, outWidth, outHeight);

    it(`separable float64 passes equal the 2-D definition, ${width}×${height} → ${outWidth}×${outHeight}`, () => {
      expect(largestDifference(resizeFloat64(image, outWidth, outHeight), reference)).toBeLessThan(1e-9);
    });

    it(`torchvision-float32 is the definition rounded (≤ 0.5 + float32 noise), ${width}×${height} → ${outWidth}×${outHeight}`, () => {
      const result = resizeRgb(image, { width: outWidth, height: outHeight, antialiasArithmetic: 'torchvision-float32' });
      expect(largestDifference(result.data, reference)).toBeLessThanOrEqual(0.5 + 1e-3);
    });

    it(`8-bit two-pass arithmetics stay within 1 of the definition, ${width}×${height} → ${outWidth}×${outHeight}`, () => {
      for (const antialiasArithmetic of ['torchvision-uint8', 'pillow'] as const) {
        const result = resizeRgb(image, { width: outWidth, height: outHeight, antialiasArithmetic });
        expect(largestDifference(result.data, reference)).toBeLessThanOrEqual(1 + 1e-3);
      }
    });
  }

  it('an image already at the target size is returned unfiltered (as torchvision, Pillow and sharp do)', () => {
    const image = randomRgb(12, 9, 5);
    for (const resample of ['bilinear-antialias', 'bilinear'] as const) {
      const result = resizeRgb(image, { width: 12, height: 9, resample });
      expect(Buffer.from(result.data).equals(Buffer.from(image.data))).toBe(true);
      expect(result.data).not.toBe(image.data);
    }
  });
});
