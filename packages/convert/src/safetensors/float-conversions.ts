/**
 * Bit-level conversions between float32 and the 16-bit float formats safetensors files hold.
 * Pure typed-array functions, no I/O, so they are tested alone against known bit patterns.
 */

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** bfloat16 bits → float32: bf16 is the top half of a float32, so widening is exact. */
export function bfloat16BitsToFloat32(bits: Uint16Array, target = new Float32Array(bits.length)): Float32Array {
  const targetBits = new Uint32Array(target.buffer, target.byteOffset, target.length);
  for (let index = 0; index < bits.length; index++) {
    targetBits[index] = (bits[index] as number) << 16;
  }
  return target;
}

/** One float32 → bfloat16 bits, rounding to nearest, ties to even; NaN stays a (quiet) NaN. */
export function float32ToBfloat16Bits(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0] as number;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) {
    // Truncating a NaN could clear every mantissa bit left and turn it into infinity.
    return ((bits >>> 16) | 0x0040) & 0xffff;
  }
  const lowestKeptBit = (bits >>> 16) & 1;
  // Adding 0x7fff (+1 when the kept part is odd) carries into bit 16 exactly when the
  // discarded half is above one half, or equal to it with an odd kept part.
  return ((bits + 0x7fff + lowestKeptBit) >>> 16) & 0xffff;
}

/** float32 values → bfloat16 bits (round to nearest even). */
export function float32ToBfloat16(values: Float32Array, target = new Uint16Array(values.length)): Uint16Array {
  for (let index = 0; index < values.length; index++) {
    target[index] = float32ToBfloat16Bits(values[index] as number);
  }
  return target;
}

/** Rounds float32 values in place to the nearest bfloat16-representable value. */
export function roundToBfloat16(values: Float32Array): Float32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let index = 0; index < values.length; index++) {
    bits[index] = float32ToBfloat16Bits(values[index] as number) << 16;
  }
  return values;
}

/** One IEEE half-precision value (bits) → a number; subnormals, infinities and NaN included. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x03ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** float16 bits → float32 (exact: every half value is a float32 value). */
export function float16BitsToFloat32(bits: Uint16Array, target = new Float32Array(bits.length)): Float32Array {
  for (let index = 0; index < bits.length; index++) {
    target[index] = float16BitsToNumber(bits[index] as number);
  }
  return target;
}
