import { describe, expect, it } from 'vitest';
import { Tensor } from 'onnxruntime-common';
import { castFloatTensor, float16BitsToNumber, numberToFloat16Bits, truncateAxis2 } from './tensor-data';

describe('float16 conversion', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -14, 0x0400], // smallest normal
    [70000, 0x7c00], // overflow → Infinity
    [-Infinity, 0xfc00],
    [1 + 2 ** -11, 0x3c00], // halfway: rounds to even
    [1 + 3 * 2 ** -11, 0x3c02], // halfway: rounds to even (up)
    [1 / 3, 0x3555],
  ])('%d has the half bits %i', (value, bits) => {
    expect(numberToFloat16Bits(value)).toBe(bits);
  });

  it('round-trips every finite half value', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16BitsToNumber(bits);
      if (Number.isNaN(value)) {
        expect(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(value)))).toBe(true);
        continue;
      }
      expect(numberToFloat16Bits(value)).toBe(bits);
    }
  });

  it('casts tensors both ways', () => {
    const single = new Tensor('float32', Float32Array.from([1, -2, 0.5]), [1, 3]);
    const half = castFloatTensor(single, 'float16');
    expect(half.type).toBe('float16');
    expect(Array.from(half.data as Uint16Array)).toEqual([0x3c00, 0xc000, 0x3800]);
    expect(Array.from(castFloatTensor(half, 'float32').data as Float32Array)).toEqual([1, -2, 0.5]);
    expect(castFloatTensor(single, 'float32')).toBe(single);
  });
});

describe('truncateAxis2', () => {
  it('keeps the first positions of every head', () => {
    // [1, 2 heads, 3 positions, 2 dims]
    const tensor = new Tensor('float32', Float32Array.from({ length: 12 }, (_, index) => index), [1, 2, 3, 2]);
    const cut = truncateAxis2(tensor, 2);
    expect(cut.dims).toEqual([1, 2, 2, 2]);
    expect(Array.from(cut.data as Float32Array)).toEqual([0, 1, 2, 3, 6, 7, 8, 9]);
  });
});
