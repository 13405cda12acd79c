import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RgbPixels } from '../image/image-pixels';
import { antialiasAxisFloat32, type ResampleAxis } from './resample-axis';
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
const axisX = (golden: GoldenCase) => antialiasAxisFloat32(golden.width, golden.outWidth);
const axisY = (golden: GoldenCase) => antialiasAxisFloat32(golden.height, golden.outHeight);
const maxTaps = (golden: GoldenCase) => Math.max(...axisX(golden).count, ...axisY(golden).count);

/** One float32 pass with the recorded build's contraction pattern (first 4·⌊(n−1)/4⌋ `+=` unfused). */
function passLikeRecordedTorchBuild(
  source: ArrayLike<number>,
  axis: ResampleAxis,
  lineCount: number,
  at: (line: number, position: number) => number,
  into: (line: number, output: number) => number,
): Float64Array {
  const toFloat32 = Math.fround;
  const target = new Float64Array(lineCount * axis.outputSize);
  for (let line = 0; line < lineCount; line++) {
    for (let output = 0; output < axis.outputSize; output++) {
      const start = axis.first[output] as number;
      const count = axis.count[output] as number;
      const weight = (tap: number) => axis.weights[output * axis.taps + tap] as number;
      const unfused = 4 * Math.floor((count - 1) / 4);
      let sum = toFloat32((source[at(line, start)] as number) * weight(0));
      for (let tap = 1; tap < count; tap++) {
        const product = (source[at(line, start + tap)] as number) * weight(tap);
        sum = tap <= unfused ? toFloat32(sum + toFloat32(product)) : toFloat32(sum + product);
      }
      target[into(line, output)] = sum;
    }
  }
  return target;
}

function resampleLikeRecordedTorchBuild(image: RgbPixels, horizontal: ResampleAxis, vertical: ResampleAxis): Float64Array {
  const { width, height } = image;
  const outWidth = horizontal.outputSize;
  // Lines are (row, channel) pairs for the horizontal pass and (column, channel) for the vertical.
  const afterHorizontal = passLikeRecordedTorchBuild(
    image.data,
    horizontal,
    height * 3,
    (line, x) => (Math.floor(line / 3) * width + x) * 3 + (line % 3),
    (line, x) => (Math.floor(line / 3) * outWidth + x) * 3 + (line % 3),
  );
  return passLikeRecordedTorchBuild(
    afterHorizontal,
    vertical,
    outWidth * 3,
    (line, y) => (y * outWidth + Math.floor(line / 3)) * 3 + (line % 3),
    (line, y) => (y * outWidth + Math.floor(line / 3)) * 3 + (line % 3),
  );
}

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

    it(`torchvision-float32 matches torchvision resize(antialias=True) bytes, ${label(golden)}`, () => {
      const result = resizeRgb(input(golden), {
        width: golden.outWidth,
        height: golden.outHeight,
        antialiasArithmetic: 'torchvision-float32',
      });
      const expected = bytes(golden.torchvisionRgb);
      let mismatched = 0;
      let largest = 0;
      for (let index = 0; index < expected.length; index++) {
        const difference = Math.abs((result.data[index] as number) - (expected[index] as number));
        if (difference > 0) mismatched++;
        largest = Math.max(largest, difference);
      }
      if (maxTaps(golden) <= 4) {
        expect(mismatched).toBe(0);
      } else {
        // Windows of 5+ taps: the recorded build fuses only some of its multiply-adds (see the
        // test below), so a value that sits on a .5 tie can round the other way.
        expect(largest).toBeLessThanOrEqual(1);
        expect(mismatched / expected.length).toBeLessThan(0.02);
      }
    });

    it(`float32 passes with fused multiply-adds equal torch's unrounded F.interpolate where windows have ≤ 4 taps, ${label(golden)}`, () => {
      const result = resampleFloat(input(golden), axisX(golden), axisY(golden), true, true);
      const expected = float32s(golden.torchFloat32Hwc);
      expect(result.data.length).toBe(expected.length);
      let mismatched = 0;
      let largest = 0;
      for (let index = 0; index < expected.length; index++) {
        const difference = Math.abs((result.data[index] as number) - (expected[index] as number));
        if (difference > 0) mismatched++;
        largest = Math.max(largest, difference);
      }
      if (maxTaps(golden) <= 4) expect(mismatched).toBe(0);
      // Values are 0…255; a few float32 ulps at 255 are ~3e-5. A formula slip is ≥ 1e-2.
      else expect(largest).toBeLessThan(1e-4);
    });

    it(`the recorded torch build is reproduced bit for bit once its FMA pattern is modelled, ${label(golden)}`, () => {
      // Debian's GCC 12 build of torch 1.13 unrolls the tap loop by 4: the unrolled block is
      // compiled with separate multiply and add, the remainder with fused multiply-adds. Modelling
      // exactly that reproduces every float it wrote, which confirms that the weights and the
      // pass order are right and that the remaining differences are only this contraction choice.
      const expected = float32s(golden.torchFloat32Hwc);
      const result = resampleLikeRecordedTorchBuild(input(golden), axisX(golden), axisY(golden));
      let mismatched = 0;
      for (let index = 0; index < expected.length; index++) if (result[index] !== expected[index]) mismatched++;
      expect(mismatched).toBe(0);
    });
  }
});
