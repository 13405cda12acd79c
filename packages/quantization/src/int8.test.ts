import { describe, expect, it } from 'vitest';
import { accumulateAbsoluteMaxima, dequantizeInt8, int8ScalesFromMaxima, quantizeInt8, quantizeInt8Rows } from './int8';

describe('quantizeInt8', () => {
  it('uses max|v| / 127 per channel and rounds to the nearest code', () => {
    // Columns: max |v| = 2.54 → scale 0.02, and 1.27 → scale 0.01.
    const matrix = Float32Array.from([2.54, -0.013, -1.0, 1.27, 0.031, -1.27]);
    const result = quantizeInt8(matrix, { rows: 3, columns: 2, axis: 'per-column' });
    expect(result.scales[0]).toBeCloseTo(0.02, 7);
    expect(result.scales[1]).toBeCloseTo(0.01, 7);
    expect(Array.from(result.data)).toEqual([127, -1, -50, 127, 2, -127]);
    const rows = quantizeInt8(matrix, { rows: 3, columns: 2, axis: 'per-row' });
    expect(Array.from(rows.scales).map((scale) => Number(scale.toFixed(6)))).toEqual([0.02, 0.01, 0.01]);
    expect(Array.from(rows.data)).toEqual([127, -1, -100, 127, 3, -127]);
  });

  it('round-trips within scale / 2 on both axes, and never emits −128', () => {
    const rows = 33;
    const columns = 17;
    const matrix = Float32Array.from({ length: rows * columns }, (_, index) => Math.sin(index * 1.7) * (1 + (index % 5)));
    for (const axis of ['per-row', 'per-column'] as const) {
      const quantized = quantizeInt8(matrix, { rows, columns, axis });
      const restored = dequantizeInt8(quantized);
      for (let row = 0; row < rows; row++) {
        for (let column = 0; column < columns; column++) {
          const scale = quantized.scales[axis === 'per-row' ? row : column]!;
          expect(Math.abs(restored[row * columns + column]! - matrix[row * columns + column]!)).toBeLessThanOrEqual(scale / 2 + 1e-7);
        }
      }
      expect(Math.min(...quantized.data)).toBeGreaterThanOrEqual(-127);
    }
  });

  it('streams: maxima folded chunk by chunk and chunks quantized alone equal the whole', () => {
    const columns = 6;
    const matrix = Float32Array.from({ length: 10 * columns }, (_, index) => Math.cos(index) * index);
    const whole = quantizeInt8(matrix, { rows: 10, columns, axis: 'per-column' });
    const maxima = new Float32Array(columns);
    for (const first of [0, 4, 8]) accumulateAbsoluteMaxima(matrix.subarray(first * columns, Math.min(10, first + 4) * columns), columns, 'per-column', maxima, first);
    const scales = int8ScalesFromMaxima(maxima);
    expect(scales).toEqual(whole.scales);
    const pieces = [0, 4, 8].map((first) => quantizeInt8Rows(matrix.subarray(first * columns, Math.min(10, first + 4) * columns), columns, 'per-column', scales, first));
    expect(Int8Array.from(pieces.flatMap((piece) => Array.from(piece)))).toEqual(whole.data);
  });
});
