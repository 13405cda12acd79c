/**
 * Block-wise 4-bit quantization in the layouts onnxruntime's `com.microsoft` ops read:
 *
 * - MatMulNBits (bits 4): for `Y = A · W` with W [K, N], `B` is uint8 [N, ceil(K / block),
 *   block / 2], `scales` float [N · ceil(K / block)] (n-major), `zero_points` uint8
 *   [N · ceil(ceil(K / block) / 2)]; a missing `zero_points` input means 8 for every block.
 * - GatherBlockQuantized (uint8 data, bits 4, quantize_axis = last): for a table T [rows,
 *   columns], `data` uint8 [rows, columns / 2], `scales` [rows, ceil(columns / block)],
 *   `zero_points` uint8 [rows, ceil(ceil(columns / block) / 2)].
 *
 * Both pack two 4-bit values per byte, the even element in the low nibble, and both
 * dequantize as `(q − zero_point) · scale`. The quantizers follow onnxruntime's MLAS rules
 * (what `matmul_nbits_quantizer.py` produces, hence what the onnx-community `_q4` files hold):
 *
 * - symmetric: `scale = m / −8` where m is the block's value of largest magnitude (with its
 *   sign), zero point 8. m itself is exact; a value of the opposite sign beyond 7.5 · |scale|
 *   clamps to 15 and is off by at most one scale (every other value by at most scale / 2).
 * - asymmetric: the range [min(v, 0), max(v, 0)] over 15 steps, zero point
 *   `round(−min / scale)`; 0 stays exact and every value is within scale / 2.
 *
 * Pure typed-array code: no I/O, safe in browsers.
 */

export interface Blockwise4Options {
  /** Values per block along K (MatMulNBits) or along a table row: 16, 32, 64, 128, … */
  blockSize: number;
  /** Zero point fixed at 8 (no `zero_points` tensor) instead of one per block. */
  symmetric: boolean;
  /**
   * Rounds each scale to what the stored scale type can hold before quantizing against it,
   * so the stored values are consistent with the stored scales (fp16 scales for q4f16).
   */
  roundScale?: (scale: number) => number;
}

/** The three MatMulNBits initializers for one weight W [K, N]. */
export interface MatMulNBitsWeights {
  k: number;
  n: number;
  blockSize: number;
  blocksPerColumn: number;
  /** uint8 [N, blocksPerColumn, blockSize / 2]. */
  data: Uint8Array;
  /** float [N · blocksPerColumn], n-major. */
  scales: Float32Array;
  /** uint8 [N · ceil(blocksPerColumn / 2)], packed 4-bit; null when symmetric (implicit 8). */
  zeroPoints: Uint8Array | null;
}

/** The three GatherBlockQuantized initializers for one table T [rows, columns]. */
export interface GatherBlockQuantizedTable {
  rows: number;
  columns: number;
  blockSize: number;
  blocksPerRow: number;
  /** uint8 [rows, columns / 2]. */
  data: Uint8Array;
  /** float [rows, blocksPerRow]. */
  scales: Float32Array;
  /** uint8 [rows, ceil(blocksPerRow / 2)], packed 4-bit; null when symmetric (implicit 8). */
  zeroPoints: Uint8Array | null;
}

/** Row-major layout of a weight given to `quantizeMatMulNBits`: W [K, N] as MatMul reads it, or its transpose. */
export type WeightLayout = 'k-by-n' | 'n-by-k';

const SYMMETRIC_ZERO_POINT = 8;
const LEVELS = 15;

export function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`blockSize must be a power of two of at least 16 (onnxruntime's rule), got ${blockSize}`);
  }
}

/** Empty MatMulNBits tensors for W [K, N], filled by `quantizeMatMulNBitsRows`. */
export function createMatMulNBitsWeights(k: number, n: number, options: Blockwise4Options): MatMulNBitsWeights {
  checkBlockSize(options.blockSize);
  if (!(k > 0 && n > 0)) throw new RangeError(`weight shape [${k}, ${n}] must have positive sizes`);
  const blocksPerColumn = Math.ceil(k / options.blockSize);
  return {
    k,
    n,
    blockSize: options.blockSize,
    blocksPerColumn,
    data: new Uint8Array((n * blocksPerColumn * options.blockSize) / 2),
    scales: new Float32Array(n * blocksPerColumn),
    zeroPoints: options.symmetric ? null : new Uint8Array(n * Math.ceil(blocksPerColumn / 2)),
  };
}

/**
 * Quantizes W [K, N] (or its transpose [N, K]) into the MatMulNBits layout. Missing values of
 * a last partial block count as zeros.
 */
export function quantizeMatMulNBits(
  weights: Float32Array,
  shape: { k: number; n: number; layout: WeightLayout },
  options: Blockwise4Options,
): MatMulNBitsWeights {
  const { k, n, layout } = shape;
  if (weights.length !== k * n) throw new RangeError(`weights hold ${weights.length} values, expected K·N = ${k}·${n}`);
  const target = createMatMulNBitsWeights(k, n, options);
  if (layout === 'k-by-n') {
    quantizeMatMulNBitsRows(target, weights, 0, options);
  } else {
    quantizeMatMulNBitsColumns(target, weights, 0, options);
  }
  return target;
}

/**
 * Quantizes columns [firstColumn, firstColumn + count) of W [K, N], given as rows of its
 * transpose Wᵀ [N, K] (count · K values, row-major), into `target`. This is the order a
 * `Gemm(A, B, transB=1)` weight B [N, K] is stored in, and MatMulNBits keeps one column of W
 * per output: each row of B becomes one column's blocks, with no transpose, so a caller can
 * stream a large B from disk a few rows at a time.
 */
export function quantizeMatMulNBitsColumns(
  target: MatMulNBitsWeights,
  columns: Float32Array,
  firstColumn: number,
  options: Blockwise4Options,
): void {
  const { k, n } = target;
  const count = columns.length / k;
  if (!Number.isInteger(count) || count <= 0) throw new RangeError(`columns hold ${columns.length} values, not a whole number of rows of K = ${k}`);
  if (!Number.isInteger(firstColumn) || firstColumn < 0 || firstColumn + count > n) {
    throw new RangeError(`columns [${firstColumn}, ${firstColumn + count}) must lie within N = ${n}`);
  }
  const padded = new Float32Array(target.blocksPerColumn * options.blockSize);
  const block = new Float32Array(options.blockSize);
  for (let index = 0; index < count; index++) {
    padded.fill(0);
    padded.set(columns.subarray(index * k, index * k + k));
    quantizeSequence(padded, firstColumn + index, target, options, block);
  }
}

/**
 * Quantizes rows [firstRow, firstRow + count) of W [K, N] (row-major, count · N values) into
 * `target`. `firstRow` must start a block and `count` must cover whole blocks (or end at K),
 * so a caller can stream a large W from disk a few blocks of rows at a time.
 */
export function quantizeMatMulNBitsRows(
  target: MatMulNBitsWeights,
  rows: Float32Array,
  firstRow: number,
  options: Blockwise4Options,
): void {
  const { k, n, blockSize } = target;
  const count = rows.length / n;
  if (!Number.isInteger(count) || count <= 0) throw new RangeError(`rows hold ${rows.length} values, not a whole number of rows of ${n}`);
  if (firstRow % blockSize !== 0) throw new RangeError(`firstRow ${firstRow} does not start a block of ${blockSize}`);
  const lastRow = firstRow + count;
  if (lastRow > k || (lastRow !== k && count % blockSize !== 0)) {
    throw new RangeError(`rows [${firstRow}, ${lastRow}) must cover whole blocks of ${blockSize} within K = ${k}`);
  }
  const block = new Float32Array(blockSize);
  for (let blockStart = firstRow; blockStart < lastRow; blockStart += blockSize) {
    const blockIndex = blockStart / blockSize;
    const length = Math.min(blockSize, k - blockStart);
    for (let column = 0; column < n; column++) {
      block.fill(0);
      for (let offset = 0; offset < length; offset++) block[offset] = rows[(blockStart - firstRow + offset) * n + column]!;
      quantizeBlockInto(block, options, target.scales, column * target.blocksPerColumn + blockIndex, target.zeroPoints, column * Math.ceil(target.blocksPerColumn / 2), blockIndex);
      packBlock(block, target.data, (column * target.blocksPerColumn + blockIndex) * (blockSize / 2));
    }
  }
}

/** W [K, N] (row-major, float32) back from MatMulNBits tensors. */
export function dequantizeMatMulNBits(weights: MatMulNBitsWeights): Float32Array {
  const { k, n, blockSize, blocksPerColumn } = weights;
  const result = new Float32Array(k * n);
  const zeroPointStride = Math.ceil(blocksPerColumn / 2);
  for (let column = 0; column < n; column++) {
    for (let row = 0; row < k; row++) {
      const blockIndex = Math.floor(row / blockSize);
      const flatBlock = column * blocksPerColumn + blockIndex;
      const value = nibble(weights.data, flatBlock * blockSize + (row % blockSize));
      const zeroPoint = weights.zeroPoints ? nibble(weights.zeroPoints, column * zeroPointStride * 2 + blockIndex) : SYMMETRIC_ZERO_POINT;
      result[row * n + column] = (value - zeroPoint) * weights.scales[flatBlock]!;
    }
  }
  return result;
}

/** Empty GatherBlockQuantized tensors for a table [rows, columns]. */
export function createGatherBlockQuantizedTable(rows: number, columns: number, options: Blockwise4Options): GatherBlockQuantizedTable {
  checkBlockSize(options.blockSize);
  if (columns % 2 !== 0) throw new RangeError(`a 4-bit table needs an even row width, got ${columns}`);
  const blocksPerRow = Math.ceil(columns / options.blockSize);
  return {
    rows,
    columns,
    blockSize: options.blockSize,
    blocksPerRow,
    data: new Uint8Array((rows * columns) / 2),
    scales: new Float32Array(rows * blocksPerRow),
    zeroPoints: options.symmetric ? null : new Uint8Array(rows * Math.ceil(blocksPerRow / 2)),
  };
}

/** Quantizes a row-major table [rows, columns] into the GatherBlockQuantized (uint8, bits 4) layout. */
export function quantizeGatherBlockQuantized(
  table: Float32Array,
  shape: { rows: number; columns: number },
  options: Blockwise4Options,
): GatherBlockQuantizedTable {
  const { rows, columns } = shape;
  if (table.length !== rows * columns) throw new RangeError(`table holds ${table.length} values, expected ${rows}·${columns}`);
  const target = createGatherBlockQuantizedTable(rows, columns, options);
  const padded = new Float32Array(target.blocksPerRow * options.blockSize);
  const packedRow = new Uint8Array(padded.length / 2);
  const zeroPointStride = Math.ceil(target.blocksPerRow / 2);
  const block = new Float32Array(options.blockSize);
  for (let row = 0; row < rows; row++) {
    padded.fill(0);
    padded.set(table.subarray(row * columns, (row + 1) * columns));
    for (let blockIndex = 0; blockIndex < target.blocksPerRow; blockIndex++) {
      block.set(padded.subarray(blockIndex * options.blockSize, (blockIndex + 1) * options.blockSize));
      quantizeBlockInto(block, options, target.scales, row * target.blocksPerRow + blockIndex, target.zeroPoints, row * zeroPointStride, blockIndex);
      packBlock(block, packedRow, (blockIndex * options.blockSize) / 2);
    }
    // The table's data is not padded per block: only the row's real columns are stored.
    target.data.set(packedRow.subarray(0, columns / 2), (row * columns) / 2);
  }
  return target;
}

/** The table [rows, columns] back from GatherBlockQuantized tensors. */
export function dequantizeGatherBlockQuantized(table: GatherBlockQuantizedTable): Float32Array {
  const { rows, columns, blockSize, blocksPerRow } = table;
  const result = new Float32Array(rows * columns);
  const zeroPointStride = Math.ceil(blocksPerRow / 2);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const blockIndex = Math.floor(column / blockSize);
      const value = nibble(table.data, row * columns + column);
      const zeroPoint = table.zeroPoints ? nibble(table.zeroPoints, row * zeroPointStride * 2 + blockIndex) : SYMMETRIC_ZERO_POINT;
      result[row * columns + column] = (value - zeroPoint) * table.scales[row * blocksPerRow + blockIndex]!;
    }
  }
  return result;
}

/** The scale and zero point onnxruntime's quantizer picks for one block. */
export function blockScaleAndZeroPoint(block: ArrayLike<number>, symmetric: boolean): { scale: number; zeroPoint: number } {
  if (symmetric) {
    let extreme = 0;
    for (let index = 0; index < block.length; index++) {
      const value = block[index]!;
      if (Math.abs(value) > Math.abs(extreme)) extreme = value;
    }
    return { scale: Math.fround(extreme / -SYMMETRIC_ZERO_POINT), zeroPoint: SYMMETRIC_ZERO_POINT };
  }
  let low = 0;
  let high = 0;
  for (let index = 0; index < block.length; index++) {
    const value = block[index]!;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  const scale = Math.fround((high - low) / LEVELS);
  const zeroPoint = scale === 0 ? 0 : clamp(Math.round(-low / scale), 0, LEVELS);
  return { scale, zeroPoint };
}

/** A block's 4-bit codes: `clamp(round(v / scale) + zeroPoint, 0, 15)` (zeroPoint for scale 0). */
export function quantizeValue(value: number, scale: number, zeroPoint: number): number {
  if (scale === 0) return zeroPoint;
  return clamp(Math.round(value / scale) + zeroPoint, 0, LEVELS);
}

/**
 * Quantizes one block in place (its values become 4-bit codes) and stores its scale and
 * zero point.
 */
function quantizeBlockInto(
  block: Float32Array,
  options: Blockwise4Options,
  scales: Float32Array,
  scaleIndex: number,
  zeroPoints: Uint8Array | null,
  zeroPointRowStart: number,
  blockIndex: number,
): void {
  const chosen = blockScaleAndZeroPoint(block, options.symmetric);
  const scale = options.roundScale ? options.roundScale(chosen.scale) : chosen.scale;
  let zeroPoint = chosen.zeroPoint;
  if (!options.symmetric && options.roundScale && scale !== 0) {
    // Recompute the zero point against the stored (rounded) scale so 0 stays as close to exact.
    let low = 0;
    for (const value of block) if (value < low) low = value;
    zeroPoint = clamp(Math.round(-low / scale), 0, LEVELS);
  }
  scales[scaleIndex] = scale;
  if (zeroPoints) setNibble(zeroPoints, zeroPointRowStart * 2 + blockIndex, zeroPoint);
  for (let index = 0; index < block.length; index++) block[index] = quantizeValue(block[index]!, scale, zeroPoint);
}

/** Quantizes one column of W (zero-padded to whole blocks); `block` is scratch space of one block. */
function quantizeSequence(padded: Float32Array, column: number, target: MatMulNBitsWeights, options: Blockwise4Options, block: Float32Array): void {
  const { blockSize, blocksPerColumn } = target;
  for (let blockIndex = 0; blockIndex < blocksPerColumn; blockIndex++) {
    block.set(padded.subarray(blockIndex * blockSize, (blockIndex + 1) * blockSize));
    quantizeBlockInto(block, options, target.scales, column * blocksPerColumn + blockIndex, target.zeroPoints, column * Math.ceil(blocksPerColumn / 2), blockIndex);
    packBlock(block, target.data, (column * blocksPerColumn + blockIndex) * (blockSize / 2));
  }
}

/** Packs 4-bit codes two per byte, the even one in the low nibble. */
function packBlock(codes: Float32Array, target: Uint8Array, byteOffset: number): void {
  for (let index = 0; index < codes.length; index += 2) {
    target[byteOffset + index / 2] = codes[index]! | ((codes[index + 1] ?? 0) << 4);
  }
}

/** The 4-bit value at `index` of a packed array (even indices in the low nibble). */
export function nibble(packed: Uint8Array, index: number): number {
  const byte = packed[index >> 1]!;
  return index & 1 ? byte >> 4 : byte & 0x0f;
}

function setNibble(packed: Uint8Array, index: number, value: number): void {
  const byteIndex = index >> 1;
  const byte = packed[byteIndex]!;
  packed[byteIndex] = index & 1 ? (byte & 0x0f) | (value << 4) : (byte & 0xf0) | value;
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
