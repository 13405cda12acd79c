import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RgbPixels } from '../image/image-pixels';
import { antialiasAxisFloat32 } from './resample-axis';
import { resizeRgb } from './resize-image';
import { resampleFloat } from './separable-resize';

/**
 * Outputs recorded from real Pillow 9.4 and real torch 1.13 / torchvision 0.14 by
 * scripts/record-resize-fixtures.py on uniform random bytes (see `recordedWith` in the file).
 */
interface GoldenCase {
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  inputRgb: string;
  pillowRgb: string;
  torchvisionRgb: string;
  torchFloat32Hwc: string;
}

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/resize-goldens.json', import.meta.url), 'utf8'),
) as { recordedWith: Record<string, string>; cases: GoldenCase[] };

function bytes(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

function float32s(base64: string): Float32Array {
  const raw = Buffer.from(base64, 'base64');
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

function input(golden: GoldenCase): RgbPixels {
  return { width: golden.width, height: golden.height, channels: 3, data: bytes(golden.inputRgb) };
}

const label = (golden: GoldenCase) => `${golden.width}×${golden.height} → ${golden.outWidth}×${golden.outHeight}`;

describe('antialiased bilinear against recorded Pillow and torchvision outputs', () => {
  it('has the recorded cases', () => {
    expect(fixture.cases.length).toBe(6);
    expect(fixture.recordedWith.pillow).toBe('9.4.0');
  });

  for (const golden of fixture.cases) {
    it(`pillow arithmetic is byte-exact with PIL.Image.resize(BILINEAR), ${label(golden)}`, () => {
      const result = resizeRgb(input(golden), {
        width: golden.outWidth,
        height: golden.outHeight,
        antialiasArithmetic: 'pillow',
      });
      expect(Buffer.from(result.data).equals(Buffer.from(bytes(golden.pillowRgb)))).toBe(true);
    });

    it(`torchvision-float32 arithmetic is byte-exact with torchvision resize(antialias=True), ${label(golden)}`, () => {
      const result = resizeRgb(input(golden), {
        width: golden.outWidth,
        height: golden.outHeight,
        antialiasArithmetic: 'torchvision-float32',
      });
      expect(Buffer.from(result.data).equals(Buffer.from(bytes(golden.torchvisionRgb)))).toBe(true);
    });

    it(`float32 passes match torch's unrounded F.interpolate(antialias=True) to float32 rounding, ${label(golden)}`, () => {
      const image = input(golden);
      const result = resampleFloat(
        image,
        antialiasAxisFloat32(golden.width, golden.outWidth),
        antialiasAxisFloat32(golden.height, golden.outHeight),
        true,
      );
      const expected = float32s(golden.torchFloat32Hwc);
      expect(result.data.length).toBe(expected.length);
      let largest = 0;
      for (let index = 0; index < expected.length; index++) {
        largest = Math.max(largest, Math.abs((result.data[index] as number) - (expected[index] as number)));
      }
      // Values are 0…255; a few float32 ulps at 255 are ~3e-5. Any real formula slip is ≥ 1e-2.
      expect(largest).toBeLessThan(1e-4);
    });
  }
});
