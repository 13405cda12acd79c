/**
 * Symmetric int8 quantization with one scale per channel: `q = clamp(round(v / scale), −127,
 * 127)`, `scale = max|v| / 127` over the channel, zero point 0. −128 is never produced, so the
 * grid is symmetric and every value is within scale / 2 of its dequantized value.
 *
 * Channels are the columns of a MatMul weight W [K, N] (what DynamicQuantizeMatMul's
 * per-column `b_scale` [N] expects) or the rows of an embedding table (one scale per token,
 * gathered with the row). Pure typed-array code: no I/O, safe in browsers.
 */

export type Int8Axis = 'per-row' | 'per-column';

export interface Int8Quantized {
  rows: number;
  columns: number;
  axis: Int8Axis;
  data: Int8Array;
  /** One per row (per-row) or per column (per-column). */
  scales: Float32Array;
}

export const INT8_LEVELS = 127;

export function quantizeInt8(matrix: Float32Array, shape: { rows: number; columns: number; axis: Int8Axis }): Int8Quantized {
  const { rows, columns, axis } = shape;
  if (matrix.length !== rows * columns) throw new RangeError(`matrix holds ${matrix.length} values, expected ${rows}·${columns}`);
  const maxima = new Float32Array(axis === 'per-row' ? rows : columns);
  accumulateAbsoluteMaxima(matrix, columns, axis, maxima);
  const scales = int8ScalesFromMaxima(maxima);
  const data = quantizeInt8Rows(matrix, columns, axis, scales, 0);
  return { rows, columns, axis, data, scales };
}

/**
 * Folds the rows of `rows` (row-major, `columns` wide) into running per-channel maxima of
 * |v|; for per-row the i-th row of the chunk goes to `maxima[firstRow + i]`. Lets a caller
 * find per-column scales of a large W by streaming it once before quantizing it.
 */
export function accumulateAbsoluteMaxima(rows: Float32Array, columns: number, axis: Int8Axis, maxima: Float32Array, firstRow = 0): void {
  const count = rows.length / columns;
  for (let row = 0; row < count; row++) {
    for (let column = 0; column < columns; column++) {
      const magnitude = Math.abs(rows[row * columns + column]!);
      const channel = axis === 'per-row' ? firstRow + row : column;
      if (magnitude > maxima[channel]!) maxima[channel] = magnitude;
    }
  }
}

export function int8ScalesFromMaxima(maxima: Float32Array): Float32Array {
  return maxima.map((maximum) => maximum / INT8_LEVELS);
}

/** Quantizes a chunk of rows (row `firstRow` of the matrix onward) against known scales. */
export function quantizeInt8Rows(rows: Float32Array, columns: number, axis: Int8Axis, scales: Float32Array, firstRow: number): Int8Array {
  const count = rows.length / columns;
  const target = new Int8Array(rows.length);
  for (let row = 0; row < count; row++) {
    for (let column = 0; column < columns; column++) {
      const scale = scales[axis === 'per-row' ? firstRow + row : column]!;
      const value = rows[row * columns + column]!;
      target[row * columns + column] = scale === 0 ? 0 : Math.max(-INT8_LEVELS, Math.min(INT8_LEVELS, Math.round(value / scale)));
    }
  }
  return target;
}

export function dequantizeInt8(quantized: Int8Quantized): Float32Array {
  const { rows, columns, axis, data, scales } = quantized;
  const result = new Float32Array(rows * columns);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      result[row * columns + column] = data[row * columns + column]! * scales[axis === 'per-row' ? row : column]!;
    }
  }
  return result;
}
