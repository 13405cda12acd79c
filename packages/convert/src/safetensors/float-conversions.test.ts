import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  roundToBfloat16,
} from './float-conversions';

function fromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0] as number;
}

describe('bfloat16', () => {
  it('encodes exact values to their known bit patterns', () => {
    expect(float32ToBfloat16Bits(1)).toBe(0x3f80);
    expect(float32ToBfloat16Bits(-2)).toBe(0xc000);
    expect(float32ToBfloat16Bits(3.140625)).toBe(0x4049);
    expect(float32ToBfloat16Bits(0)).toBe(0x0000);
    expect(float32ToBfloat16Bits(-0)).toBe(0x8000);
    expect(float32ToBfloat16Bits(Infinity)).toBe(0x7f80);
  });

  it('rounds to nearest with ties to even', () => {
    expect(float32ToBfloat16Bits(fromBits(0x3f808000))).toBe(0x3f80); // tie, kept part even: down
    expect(float32ToBfloat16Bits(fromBits(0x3f818000))).toBe(0x3f82); // tie, kept part odd: up
    expect(float32ToBfloat16Bits(fromBits(0x3f808001))).toBe(0x3f81); // above the tie: up
    expect(float32ToBfloat16Bits(fromBits(0x3f807fff))).toBe(0x3f80); // below the tie: down
    expect(float32ToBfloat16Bits(fromBits(0x7f7fffff))).toBe(0x7f80); // largest float32 overflows to +inf
  });

  it('keeps NaN a NaN even when only low mantissa bits are set', () => {
    expect(float32ToBfloat16Bits(fromBits(0x7f800001))).toBe(0x7fc0);
    expect(Number.isNaN(bfloat16BitsToFloat32(new Uint16Array([0x7fc0]))[0])).toBe(true);
  });

  it('widens exactly', () => {
    expect([...bfloat16BitsToFloat32(new Uint16Array([0x3f80, 0xc000, 0x4049, 0x0001, 0xff80]))]).toEqual([
      1, -2, 3.140625, fromBits(0x00010000), -Infinity,
    ]);
  });

  it('roundToBfloat16 rounds in place', () => {
    const values = new Float32Array([fromBits(0x3f818000), 1 / 3]);
    roundToBfloat16(values);
    expect(new Uint32Array(values.buffer)[0]).toBe(0x3f820000);
    expect(values[1]).toBe(0.333984375); // 0x3eab
  });
});

describe('float16', () => {
  it('widens known bit patterns, subnormals and specials included', () => {
    const widened = float16BitsToFloat32(
      new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x8000]),
    );
    expect([...widened]).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, Infinity, -Infinity, -0]);
    expect(Number.isNaN(float16BitsToFloat32(new Uint16Array([0x7e00]))[0])).toBe(true);
  });
});
