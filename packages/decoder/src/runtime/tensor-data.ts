import { Tensor } from 'onnxruntime-common';

/** Converts IEEE half-precision bits to a number. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Rounds a number to IEEE half precision (round to nearest even) and returns its bits. */
export function numberToFloat16Bits(value: number): number {
  const floatView = new Float32Array(1);
  const bitsView = new Uint32Array(floatView.buffer);
  floatView[0] = value;
  const bits = bitsView[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Inf, NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // underflow → ±0
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++; // may carry into the exponent, correctly
  return sign | half;
}

/**
 * The same values as a float32 or float16 tensor. Folders may mix dtypes per file (a q8
 * `embed_tokens` emits float32, a q4f16 decoder takes float16), so the runtime converts
 * between the two where the graphs disagree.
 */
export function castFloatTensor(tensor: Tensor, type: 'float32' | 'float16'): Tensor {
  if (tensor.type === type) return tensor;
  const values = readFloats(tensor, 0, tensor.size);
  if (type === 'float32') return new Tensor('float32', values, tensor.dims);
  return new Tensor('float16', Uint16Array.from(values, numberToFloat16Bits), tensor.dims);
}

/**
 * Copies `count` float values starting at `offset` out of a float32 or float16 tensor. Float16
 * tensors hold raw bits (Uint16Array) or, where the engine has it, a Float16Array.
 */
export function readFloats(tensor: Tensor, offset: number, count: number): Float32Array {
  const data = tensor.data as ArrayLike<number>;
  if (tensor.type === 'float32') return (tensor.data as Float32Array).slice(offset, offset + count);
  if (tensor.type === 'float16') {
    const result = new Float32Array(count);
    const rawBits = data instanceof Uint16Array;
    for (let index = 0; index < count; index++) {
      const value = data[offset + index]!;
      result[index] = rawBits ? float16BitsToNumber(value) : value;
    }
    return result;
  }
  throw new TypeError(`expected a float32 or float16 tensor, got ${tensor.type}`);
}

export function int64Tensor(values: readonly number[], dims: readonly number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), dims);
}

/** An empty tensor of the given float type, e.g. a past key `[1, n_kv, 0, head_dim]`. */
export function emptyFloatTensor(type: Tensor.Type, dims: readonly number[]): Tensor {
  if (type === 'float16') return new Tensor('float16', new Uint16Array(0), dims);
  if (type === 'float32') return new Tensor('float32', new Float32Array(0), dims);
  throw new TypeError(`past key/value inputs must be float32 or float16, the graph declares ${type}`);
}

/**
 * Keeps the first `length` positions along axis 2 of a `[batch, heads, positions, head_dim]`
 * tensor; used to roll a KV cache back to a shared prefix.
 */
export function truncateAxis2(tensor: Tensor, length: number): Tensor {
  const [batch, heads, positions, headDim] = tensor.dims as [number, number, number, number];
  if (length >= positions) return tensor;
  const source = tensor.data as Float32Array | Uint16Array;
  const Constructor = source.constructor as new (size: number) => Float32Array | Uint16Array;
  const target = new Constructor(batch * heads * length * headDim);
  for (let row = 0; row < batch * heads; row++) {
    const from = row * positions * headDim;
    target.set(source.subarray(from, from + length * headDim), row * length * headDim);
  }
  return new Tensor(tensor.type as 'float32', target as Float32Array, [batch, heads, length, headDim]);
}
