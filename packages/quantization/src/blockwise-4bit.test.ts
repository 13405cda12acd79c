import { describe, expect, it } from 'vitest';
import {
  blockScaleAndZeroPoint,
  createMatMulNBitsWeights,
  dequantizeGatherBlockQuantized,
  dequantizeMatMulNBits,
  nibble,
  quantizeGatherBlockQuantized,
  quantizeMatMulNBits,
  quantizeMatMulNBitsColumns,
  quantizeMatMulNBitsRows,
} from './blockwise-4bit';
import { roundToFloat16 } from './float16';

/** Deterministic values in (−1, 1) with a few outliers, as real weights have. */
function seededValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Float32Array.from({ length: count }, () => (next() * 2 - 1) * (next() < 0.02 ? 6 : 1));
}

describe('quantizeMatMulNBits', () => {
  it('matches a hand-computed symmetric block: scale = extreme / −8, zero point 8, low nibble first', () => {
    // One column (N = 1), K = 16. −1 is the first value of largest magnitude, so scale =
    // −1 / −8 = 0.125 and q = clamp(round(v / 0.125) + 8, 0, 15).
    const column = Float32Array.from([-1, 0.5, 0.25, 0, 0.9, -0.06, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0.125]);
    const result = quantizeMatMulNBits(column, { k: 16, n: 1, layout: 'k-by-n' }, { blockSize: 16, symmetric: true });
    expect(Array.from(result.scales)).toEqual([0.125]);
    expect(result.zeroPoints).toBeNull();
    // Codes: −1→0, 0.5→12, 0.25→10, 0→8, 0.9→round(7.2)+8 = 15, −0.06→round(−0.48)+8 = 8,
    // 1→16 clamped to 15 (the opposite-sign extreme), zeros→8, 0.125→9. Pairs pack as low | high << 4.
    expect(Array.from(result.data)).toEqual([0 | (12 << 4), 10 | (8 << 4), 15 | (8 << 4), 15 | (8 << 4), 8 | (8 << 4), 8 | (8 << 4), 8 | (8 << 4), 8 | (9 << 4)]);
  });

  it('matches a hand-computed asymmetric block: [min(v,0), max(v,0)] over 15 steps', () => {
    const column = new Float32Array(16);
    column.set([3, 1.25, 0.2, 2.9]); // min 0 (zero is in the range), max 3 → scale 0.2, zero point 0
    const result = quantizeMatMulNBits(column, { k: 16, n: 1, layout: 'k-by-n' }, { blockSize: 16, symmetric: false });
    expect(result.scales[0]).toBeCloseTo(0.2, 7);
    expect(Array.from(result.zeroPoints!)).toEqual([0]);
    expect([0, 1, 2, 3].map((index) => nibble(result.data, index))).toEqual([15, 6, 1, 15]);

    const negative = new Float32Array(16).fill(0);
    negative.set([-1, 2]); // range 3 → scale 0.2, zero point round(1 / 0.2) = 5
    const shifted = quantizeMatMulNBits(negative, { k: 16, n: 1, layout: 'k-by-n' }, { blockSize: 16, symmetric: false });
    expect(nibble(shifted.zeroPoints!, 0)).toBe(5);
    expect([0, 1, 2].map((index) => nibble(shifted.data, index))).toEqual([0, 15, 5]);
  });

  it('lays out B as [N, K/block, block/2], scales n-major and zero points packed per column', () => {
    // K = 64 (two blocks of 32), N = 3, asymmetric. Each column c, block b holds a ramp whose
    // maximum is (c + 1) · (b + 1), so every scale is identifiable.
    const k = 64;
    const n = 3;
    const weights = new Float32Array(k * n);
    for (let row = 0; row < k; row++) {
      for (let column = 0; column < n; column++) {
        const block = Math.floor(row / 32);
        weights[row * n + column] = ((row % 32) / 31) * (column + 1) * (block + 1);
      }
    }
    const result = quantizeMatMulNBits(weights, { k, n, layout: 'k-by-n' }, { blockSize: 32, symmetric: false });
    expect(result.data.length).toBe(n * 2 * 16);
    for (let column = 0; column < n; column++) {
      for (let block = 0; block < 2; block++) {
        expect(result.scales[column * 2 + block]).toBeCloseTo(((column + 1) * (block + 1)) / 15, 6);
        // Ramps start at 0: zero point 0 for each of the two blocks, one byte per column.
        expect(nibble(result.zeroPoints!, column * 2 + block)).toBe(0);
        // The ramp's first code is 0 and its last 15, at bytes 0 and 15 of the block's 16.
        const blockStart = (column * 2 + block) * 16;
        expect(result.data[blockStart]! & 0x0f).toBe(0);
        expect(result.data[blockStart + 15]! >> 4).toBe(15);
      }
    }
    expect(result.zeroPoints!.length).toBe(3);
  });

  it('gives the same tensors from W [K, N] and from its transpose [N, K], whole or streamed by rows', () => {
    const k = 96;
    const n = 5;
    const weights = seededValues(k * n, 7);
    const transposed = new Float32Array(k * n);
    for (let row = 0; row < k; row++) for (let column = 0; column < n; column++) transposed[column * k + row] = weights[row * n + column]!;
    for (const symmetric of [true, false]) {
      const options = { blockSize: 32, symmetric };
      const fromKN = quantizeMatMulNBits(weights, { k, n, layout: 'k-by-n' }, options);
      const fromNK = quantizeMatMulNBits(transposed, { k, n, layout: 'n-by-k' }, options);
      const streamed = createMatMulNBitsWeights(k, n, options);
      for (const first of [0, 32, 64]) quantizeMatMulNBitsRows(streamed, weights.subarray(first * n, (first + 32) * n), first, options);
      // A Gemm(transB=1) weight [N, K], streamed two rows (columns of W) then three.
      const streamedColumns = createMatMulNBitsWeights(k, n, options);
      quantizeMatMulNBitsColumns(streamedColumns, transposed.subarray(0, 2 * k), 0, options);
      quantizeMatMulNBitsColumns(streamedColumns, transposed.subarray(2 * k), 2, options);
      for (const other of [fromNK, streamed, streamedColumns]) {
        expect(other.data).toEqual(fromKN.data);
        expect(other.scales).toEqual(fromKN.scales);
        expect(other.zeroPoints).toEqual(fromKN.zeroPoints);
      }
    }
  });

  it('refuses columns outside N or not a whole number of rows of K', () => {
    const target = createMatMulNBitsWeights(32, 2, { blockSize: 32, symmetric: false });
    expect(() => quantizeMatMulNBitsColumns(target, new Float32Array(64), 1, { blockSize: 32, symmetric: false })).toThrow('columns [1, 3) must lie within N = 2');
    expect(() => quantizeMatMulNBitsColumns(target, new Float32Array(40), 0, { blockSize: 32, symmetric: false })).toThrow('not a whole number of rows of K = 32');
  });

  it('round-trips within scale / 2, except symmetric values clamped beyond 7.5 · |scale| (within one scale)', () => {
    for (const blockSize of [32, 64, 128]) {
      for (const symmetric of [true, false]) {
        const k = 256 + blockSize / 2; // a partial last block
        const n = 7;
        const weights = seededValues(k * n, blockSize + (symmetric ? 1 : 0));
        const quantized = quantizeMatMulNBits(weights, { k, n, layout: 'k-by-n' }, { blockSize, symmetric });
        const restored = dequantizeMatMulNBits(quantized);
        let clamped = 0;
        for (let row = 0; row < k; row++) {
          for (let column = 0; column < n; column++) {
            const scale = Math.abs(quantized.scales[column * quantized.blocksPerColumn + Math.floor(row / blockSize)]!);
            const value = weights[row * n + column]!;
            const error = Math.abs(value - restored[row * n + column]!);
            if (symmetric && Math.abs(value) > 7.5 * scale) {
              clamped++;
              expect(error).toBeLessThanOrEqual(scale * (1 + 1e-6));
            } else {
              expect(error).toBeLessThanOrEqual(scale / 2 + scale * 1e-6);
            }
          }
        }
        if (!symmetric) expect(clamped).toBe(0);
      }
    }
  });

  it('keeps an all-zero block exact with scale 0', () => {
    const quantized = quantizeMatMulNBits(new Float32Array(32), { k: 32, n: 1, layout: 'k-by-n' }, { blockSize: 32, symmetric: false });
    expect(Array.from(quantized.scales)).toEqual([0]);
    expect(Array.from(dequantizeMatMulNBits(quantized))).toEqual(new Array(32).fill(0));
  });

  it('quantizes against fp16-rounded scales when asked, so stored scales and codes agree', () => {
    const weights = seededValues(64, 3);
    const quantized = quantizeMatMulNBits(weights, { k: 64, n: 1, layout: 'k-by-n' }, { blockSize: 32, symmetric: false, roundScale: roundToFloat16 });
    for (const scale of quantized.scales) expect(roundToFloat16(scale)).toBe(scale);
    const restored = dequantizeMatMulNBits(quantized);
    for (let index = 0; index < 64; index++) {
      expect(Math.abs(restored[index]! - weights[index]!)).toBeLessThanOrEqual(quantized.scales[Math.floor(index / 32)]! / 2 + 1e-6);
    }
  });

  it('rejects block sizes onnxruntime refuses', () => {
    expect(() => quantizeMatMulNBits(new Float32Array(24), { k: 24, n: 1, layout: 'k-by-n' }, { blockSize: 24, symmetric: true })).toThrow(
      'blockSize must be a power of two of at least 16',
    );
  });
});

describe('blockScaleAndZeroPoint', () => {
  it('keeps the sign of the largest-magnitude value in the symmetric scale', () => {
    expect(blockScaleAndZeroPoint([0.5, -2, 1.9], true)).toEqual({ scale: 0.25, zeroPoint: 8 });
    expect(blockScaleAndZeroPoint([0.5, 2, -1.9], true)).toEqual({ scale: -0.25, zeroPoint: 8 });
  });
});

describe('quantizeGatherBlockQuantized', () => {
  it('stores rows unpadded [rows, columns/2] with scales [rows, ceil(columns/block)] and round-trips within scale / 2', () => {
    const rows = 9;
    const columns = 48; // one full block of 32 and a partial one of 16
    const table = seededValues(rows * columns, 11);
    const quantized = quantizeGatherBlockQuantized(table, { rows, columns }, { blockSize: 32, symmetric: false });
    expect(quantized.data.length).toBe(rows * 24);
    expect(quantized.scales.length).toBe(rows * 2);
    expect(quantized.zeroPoints!.length).toBe(rows * 1);
    const restored = dequantizeGatherBlockQuantized(quantized);
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        const scale = quantized.scales[row * 2 + Math.floor(column / 32)]!;
        expect(Math.abs(restored[row * columns + column]! - table[row * columns + column]!)).toBeLessThanOrEqual(scale / 2 + 1e-6);
      }
    }
    // Row r of the table equals column r of a MatMulNBits weight with K = columns: same codes.
    const asWeight = quantizeMatMulNBits(table, { k: columns, n: rows, layout: 'n-by-k' }, { blockSize: 32, symmetric: false });
    expect(asWeight.scales).toEqual(quantized.scales);
    for (let row = 0; row < rows; row++) {
      expect(asWeight.data.subarray(row * 32, row * 32 + 24)).toEqual(quantized.data.subarray(row * 24, row * 24 + 24));
    }
  });
});
