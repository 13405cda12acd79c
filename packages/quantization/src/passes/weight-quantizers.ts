import {
  createGatherBlockQuantizedTable,
  createMatMulNBitsWeights,
  dequantizeGatherBlockQuantized,
  dequantizeMatMulNBits,
  quantizeGatherBlockQuantized,
  quantizeMatMulNBits,
  quantizeMatMulNBitsColumns,
  quantizeMatMulNBitsRows,
} from '../blockwise-4bit';
import { accumulateAbsoluteMaxima, dequantizeInt8, int8ScalesFromMaxima, quantizeInt8, quantizeInt8Rows } from '../int8';
import type { ExternalDataOutput } from '../onnx/external-data-output';
import { bytesOf, DATA_TYPE } from '../onnx/onnx-nodes';
import type { OnnxModelReader } from '../onnx/onnx-model-reader';
import type { OnnxTypes } from '../onnx/onnx-proto';

/**
 * Streams one float32 initializer from the input model into quantized initializers of the
 * output: the source is read a block of rows at a time (about `chunkBytes`), so only the
 * quantized result (1/8 or 1/4 of the fp32 size) and one chunk are ever in memory.
 */
export interface WeightQuantizerContext {
  reader: OnnxModelReader;
  output: ExternalDataOutput;
  /** Initializers smaller than this stay inline. */
  externalThresholdBytes: number;
  chunkBytes: number;
}

export interface Q4Options {
  blockSize: number;
  symmetric: boolean;
}

/** Quantized initializers plus the names the replacing node refers to. */
export interface QuantizedInitializers {
  initializers: OnnxTypes.ITensorProto[];
  data: string;
  scales: string;
  zeroPoints: string | null;
}

async function store(
  context: WeightQuantizerContext,
  name: string,
  dataType: number,
  dims: number[],
  bytes: Uint8Array | { byteLength: number; chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> },
): Promise<OnnxTypes.ITensorProto> {
  const tensor: OnnxTypes.ITensorProto = { name, dataType, dims };
  if (bytes instanceof Uint8Array) {
    if (bytes.byteLength < context.externalThresholdBytes) tensor.rawData = bytes;
    else await context.output.write(tensor, bytes.byteLength, [bytes]);
  } else {
    await context.output.write(tensor, bytes.byteLength, bytes.chunks);
  }
  return tensor;
}

function rowsPerChunk(columns: number, chunkBytes: number, multiple: number): number {
  const rows = Math.max(1, Math.floor(chunkBytes / (columns * 4)));
  return Math.max(multiple, Math.floor(rows / multiple) * multiple);
}

/** W [K, N] → MatMulNBits B [N, K/block, block/2], scales [N·K/block], zero points. */
export async function quantizeMatMulWeightQ4(context: WeightQuantizerContext, tensor: OnnxTypes.ITensorProto, k: number, n: number, options: Q4Options): Promise<QuantizedInitializers> {
  const target = createMatMulNBitsWeights(k, n, options);
  const step = rowsPerChunk(n, context.chunkBytes, options.blockSize);
  for (let first = 0; first < k; first += step) {
    const count = Math.min(step, k - first);
    quantizeMatMulNBitsRows(target, await context.reader.readFloatRows(tensor, n, first, count), first, options);
  }
  return storeMatMulNBits(context, tensor, target, options);
}

/**
 * B [N, K] of `Gemm(A, B, transB=1)`, i.e. Wᵀ → MatMulNBits of W [K, N]. MatMulNBits stores W
 * column by column, so each row of B is quantized as it is read: no transpose, and the
 * result is byte-for-byte what `quantizeMatMulWeightQ4` gives for the [K, N] copy of B.
 */
export async function quantizeTransposedWeightQ4(context: WeightQuantizerContext, tensor: OnnxTypes.ITensorProto, n: number, k: number, options: Q4Options): Promise<QuantizedInitializers> {
  const target = createMatMulNBitsWeights(k, n, options);
  const step = rowsPerChunk(k, context.chunkBytes, 1);
  for (let first = 0; first < n; first += step) {
    const count = Math.min(step, n - first);
    quantizeMatMulNBitsColumns(target, await context.reader.readFloatRows(tensor, k, first, count), first, options);
  }
  return storeMatMulNBits(context, tensor, target, options);
}

async function storeMatMulNBits(
  context: WeightQuantizerContext,
  tensor: OnnxTypes.ITensorProto,
  target: ReturnType<typeof createMatMulNBitsWeights>,
  options: Q4Options,
): Promise<QuantizedInitializers> {
  const base = `${tensor.name}_Q4`;
  const initializers = [
    await store(context, base, DATA_TYPE.uint8, [target.n, target.blocksPerColumn, options.blockSize / 2], target.data),
    await store(context, `${base}_scales`, DATA_TYPE.float32, [target.n * target.blocksPerColumn], bytesOf(target.scales)),
  ];
  if (target.zeroPoints) initializers.push(await store(context, `${base}_zero_points`, DATA_TYPE.uint8, [target.zeroPoints.length], target.zeroPoints));
  return { initializers, data: base, scales: `${base}_scales`, zeroPoints: target.zeroPoints ? `${base}_zero_points` : null };
}

/**
 * B [N, K] of `Gemm(A, B, transB=1)` → DynamicQuantizeMatMul's int8 W [K, N] with per-column
 * scales [N] (one per row of B). DynamicQuantizeMatMul has no transposed-B form, so the int8
 * codes are transposed in memory: K · N bytes (the q8 size of the weight) are held at once,
 * as the q4 pass holds its quantized weight; the fp32 source is still read a chunk at a time,
 * once. The codes and scales equal `quantizeMatMulWeightInt8` of the [K, N] copy of B.
 */
export async function quantizeTransposedWeightInt8(context: WeightQuantizerContext, tensor: OnnxTypes.ITensorProto, n: number, k: number): Promise<QuantizedInitializers> {
  const step = rowsPerChunk(k, context.chunkBytes, 1);
  const scales = new Float32Array(n);
  const codes = new Int8Array(k * n);
  for (let first = 0; first < n; first += step) {
    const count = Math.min(step, n - first);
    const chunk = await context.reader.readFloatRows(tensor, k, first, count);
    const maxima = new Float32Array(count);
    accumulateAbsoluteMaxima(chunk, k, 'per-row', maxima);
    const chunkScales = int8ScalesFromMaxima(maxima);
    scales.set(chunkScales, first);
    const chunkCodes = quantizeInt8Rows(chunk, k, 'per-row', chunkScales, 0);
    for (let row = 0; row < count; row++) {
      const column = first + row;
      for (let inner = 0; inner < k; inner++) codes[inner * n + column] = chunkCodes[row * k + inner]!;
    }
  }
  const base = `${tensor.name}_quantized`;
  const initializers = [
    await store(context, base, DATA_TYPE.int8, [k, n], bytesOf(codes)),
    await store(context, `${base}_scales`, DATA_TYPE.float32, [n], bytesOf(scales)),
  ];
  return { initializers, data: base, scales: `${base}_scales`, zeroPoints: null };
}

/** W [K, N] → int8 [K, N] with per-column scales [N] (two streamed passes: maxima, then codes). */
export async function quantizeMatMulWeightInt8(context: WeightQuantizerContext, tensor: OnnxTypes.ITensorProto, k: number, n: number): Promise<QuantizedInitializers> {
  const step = rowsPerChunk(n, context.chunkBytes, 1);
  const maxima = new Float32Array(n);
  for (let first = 0; first < k; first += step) {
    accumulateAbsoluteMaxima(await context.reader.readFloatRows(tensor, n, first, Math.min(step, k - first)), n, 'per-column', maxima);
  }
  const scales = int8ScalesFromMaxima(maxima);
  const reader = context.reader;
  async function* codes(): AsyncGenerator<Uint8Array> {
    for (let first = 0; first < k; first += step) {
      yield bytesOf(quantizeInt8Rows(await reader.readFloatRows(tensor, n, first, Math.min(step, k - first)), n, 'per-column', scales, first));
    }
  }
  const base = `${tensor.name}_quantized`;
  const initializers = [
    await store(context, base, DATA_TYPE.int8, [k, n], k * n < context.externalThresholdBytes ? await collect(codes(), k * n) : { byteLength: k * n, chunks: codes() }),
    await store(context, `${base}_scales`, DATA_TYPE.float32, [n], bytesOf(scales)),
  ];
  return { initializers, data: base, scales: `${base}_scales`, zeroPoints: null };
}

/** Table [V, D] → GatherBlockQuantized data [V, D/2], scales [V, D/block], zero points. */
export async function quantizeTableQ4(context: WeightQuantizerContext, tensor: OnnxTypes.ITensorProto, rows: number, columns: number, options: Q4Options): Promise<QuantizedInitializers> {
  const blocksPerRow = Math.ceil(columns / options.blockSize);
  const zeroPointStride = Math.ceil(blocksPerRow / 2);
  const scales = new Float32Array(rows * blocksPerRow);
  const zeroPoints = options.symmetric ? null : new Uint8Array(rows * zeroPointStride);
  createGatherBlockQuantizedTable(1, columns, options); // validates block size and width first
  const step = rowsPerChunk(columns, context.chunkBytes, 1);
  const reader = context.reader;
  async function* data(): AsyncGenerator<Uint8Array> {
    for (let first = 0; first < rows; first += step) {
      const count = Math.min(step, rows - first);
      const chunk = quantizeGatherBlockQuantized(await reader.readFloatRows(tensor, columns, first, count), { rows: count, columns }, options);
      scales.set(chunk.scales, first * blocksPerRow);
      if (zeroPoints && chunk.zeroPoints) zeroPoints.set(chunk.zeroPoints, first * zeroPointStride);
      yield chunk.data;
    }
  }
  const base = `${tensor.name}_Q4`;
  const dataBytes = (rows * columns) / 2;
  // The data goes first: scales and zero points are complete only once it has been streamed.
  const initializers = [
    await store(context, base, DATA_TYPE.uint8, [rows, columns / 2], dataBytes < context.externalThresholdBytes ? await collect(data(), dataBytes) : { byteLength: dataBytes, chunks: data() }),
  ];
  initializers.push(await store(context, `${base}_scales`, DATA_TYPE.float32, [rows, blocksPerRow], bytesOf(scales)));
  if (zeroPoints) initializers.push(await store(context, `${base}_zero_points`, DATA_TYPE.uint8, [rows, zeroPointStride], zeroPoints));
  return { initializers, data: base, scales: `${base}_scales`, zeroPoints: zeroPoints ? `${base}_zero_points` : null };
}

/** Table [V, D] → int8 rows [V, D] with one scale per row [V]. */
export async function quantizeTableInt8(context: WeightQuantizerContext, tensor: OnnxTypes.ITensorProto, rows: number, columns: number): Promise<QuantizedInitializers> {
  const scales = new Float32Array(rows);
  const step = rowsPerChunk(columns, context.chunkBytes, 1);
  const reader = context.reader;
  async function* codes(): AsyncGenerator<Uint8Array> {
    for (let first = 0; first < rows; first += step) {
      const count = Math.min(step, rows - first);
      const chunk = await reader.readFloatRows(tensor, columns, first, count);
      const maxima = new Float32Array(count);
      accumulateAbsoluteMaxima(chunk, columns, 'per-row', maxima);
      const chunkScales = int8ScalesFromMaxima(maxima);
      scales.set(chunkScales, first);
      yield bytesOf(quantizeInt8Rows(chunk, columns, 'per-row', chunkScales, 0));
    }
  }
  const base = `${tensor.name}_quantized`;
  const initializers = [
    await store(context, base, DATA_TYPE.int8, [rows, columns], rows * columns < context.externalThresholdBytes ? await collect(codes(), rows * columns) : { byteLength: rows * columns, chunks: codes() }),
  ];
  initializers.push(await store(context, `${base}_scales`, DATA_TYPE.float32, [rows], bytesOf(scales)));
  return { initializers, data: base, scales: `${base}_scales`, zeroPoints: null };
}

async function collect(chunks: AsyncIterable<Uint8Array>, byteLength: number): Promise<Uint8Array> {
  const result = new Uint8Array(byteLength);
  let offset = 0;
  for await (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return result;
}

/**
 * The fp32 weight a quantized op computes with: `dequantize(quantize(W))`, written back as a
 * float32 initializer of the same name and shape ("fake quantization"). Holds the weight in
 * fp32 whole, so it is for diagnostics on small models: it separates the error of the weights
 * from that of the kernels (DynamicQuantizeMatMul also quantizes its activations).
 */
export async function emulateQuantizedWeight(
  context: WeightQuantizerContext,
  tensor: OnnxTypes.ITensorProto,
  kind: 'matmul' | 'gemm' | 'table',
  dtype: 'q4' | 'q8',
  rows: number,
  columns: number,
  options: Q4Options,
): Promise<OnnxTypes.ITensorProto> {
  const values = await context.reader.readFloatRows(tensor, columns, 0, rows);
  let restored: Float32Array;
  if (dtype === 'q4') {
    if (kind === 'matmul') restored = dequantizeMatMulNBits(quantizeMatMulNBits(values, { k: rows, n: columns, layout: 'k-by-n' }, options));
    // A Gemm(transB=1) weight is Wᵀ [N, K]: quantized as W, restored as [K, N], stored back as [N, K].
    else if (kind === 'gemm') restored = transpose(dequantizeMatMulNBits(quantizeMatMulNBits(values, { k: columns, n: rows, layout: 'n-by-k' }, options)), columns, rows);
    else restored = dequantizeGatherBlockQuantized(quantizeGatherBlockQuantized(values, { rows, columns }, options));
  } else {
    // Per output channel: the columns of a MatMul weight, the rows of a Gemm(transB=1) weight or a table.
    restored = dequantizeInt8(quantizeInt8(values, { rows, columns, axis: kind === 'matmul' ? 'per-column' : 'per-row' }));
  }
  return store(context, tensor.name ?? '', DATA_TYPE.float32, [rows, columns], bytesOf(restored));
}

/** A row-major [rows, columns] matrix transposed to [columns, rows]. */
function transpose(matrix: Float32Array, rows: number, columns: number): Float32Array {
  const result = new Float32Array(matrix.length);
  for (let row = 0; row < rows; row++) for (let column = 0; column < columns; column++) result[column * rows + row] = matrix[row * columns + column]!;
  return result;
}
