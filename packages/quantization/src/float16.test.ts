import { describe, expect, it } from 'vitest';
import { float16ArrayToFloat32, float16BitsToFloat32, float32ArrayToFloat16, float32ToFloat16Bits } from './float16';

describe('float16', () => {
  it('encodes known values exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // largest finite
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -24 * 1023, 0x03ff], // largest subnormal
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
    ];
    for (const [value, bits] of cases) expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('rounds ties to even in the normal and subnormal ranges and overflows to infinity', () => {
    // 1 + 2^−11 is halfway between 1 and 1 + 2^−10: ties to the even mantissa (1).
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^−11 is halfway between 1 + 2^−10 (odd) and 1 + 2^−9 (even): up.
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // Just above halfway rounds up.
    expect(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    // 2^−25 is halfway between 0 and the smallest subnormal: ties to even (0); above it, up.
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000);
    expect(float32ToFloat16Bits(2 ** -25 * 1.0001)).toBe(0x0001);
    // 1.5 · 2^−24 is halfway between subnormals 1 and 2: ties to 2.
    expect(float32ToFloat16Bits(1.5 * 2 ** -24)).toBe(0x0002);
    // The largest subnormal plus half a step rounds into the smallest normal.
    expect(float32ToFloat16Bits(1023.5 * 2 ** -24)).toBe(0x0400);
    // 65520 is halfway between 65504 and 65536 (not representable): rounds to infinity.
    expect(float32ToFloat16Bits(65519)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00);
    expect(float32ToFloat16Bits(1e10)).toBe(0x7c00);
    expect(float32ToFloat16Bits(1e-10)).toBe(0x0000);
  });

  it('keeps NaN a NaN (quiet, sign preserved) and decodes every half back to itself', () => {
    const nan = float32ToFloat16Bits(Number.NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x03ff).not.toBe(0);
    expect(Number.isNaN(float16BitsToFloat32(nan))).toBe(true);
    // Every finite and infinite half survives decode → encode unchanged.
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f && (bits & 0x3ff) !== 0) continue;
      expect(float32ToFloat16Bits(float16BitsToFloat32(bits))).toBe(bits);
    }
  });

  it('rounds to the nearest half for random values (checked against the two neighbours)', () => {
    let state = 12345;
    const values = Float32Array.from({ length: 5000 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return ((state / 2 ** 32) * 2 - 1) * 2 ** ((state % 40) - 26);
    });
    const halves = float16ArrayToFloat32(float32ArrayToFloat16(values));
    for (let index = 0; index < values.length; index++) {
      const value = values[index]!;
      const bits = float32ToFloat16Bits(value);
      const error = Math.abs(halves[index]! - value);
      // Neither neighbour of the chosen half is closer.
      for (const neighbour of [bits - 1, bits + 1]) {
        if ((neighbour & 0x7fff) > 0x7bff || neighbour < 0 || (neighbour & 0x8000) !== (bits & 0x8000)) continue;
        expect(error).toBeLessThanOrEqual(Math.abs(float16BitsToFloat32(neighbour) - value));
      }
    }
  });
});
