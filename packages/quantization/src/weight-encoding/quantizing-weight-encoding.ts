import { createMatMulNBitsWeights, quantizeMatMulNBitsColumns, type MatMulNBitsWeights } from '../blockwise-4bit';
import { accumulateAbsoluteMaxima, int8ScalesFromMaxima, quantizeInt8Rows } from '../int8';

/**
 * Quantize-on-write for @gemma3n/convert's graph builders (its `WeightEncoding` hook): each
 * Linear weight becomes a MatMulNBits (q4) and each embedding table int8 rows with per-row
 * scales (q8) as the graph is built, reading the float32 weight a block of rows at a time. So a
 * full-size model (E2B: ~20 GB of float32) is written quantized without its float32 form ever
 * existing, in memory or on disk — how the E2B benchmark folder is made.
 *
 * The types below are the structural subset of convert's builder API this needs; convert's
 * GraphScope satisfies them (quantization must not depend on convert: convert's tests use it).
 */
export interface EncodingGraphScope {
  op(opType: string, inputs: readonly string[], options?: { name?: string; attributes?: Record<string, number | number[] | string>; domain?: string }): string;
  initializer(
    name: string,
    type: 'float32' | 'int8' | 'uint8',
    dims: readonly number[],
    data: Float32Array | Int8Array | Uint8Array | { byteLength: number; chunks: AsyncIterable<Uint8Array> },
  ): Promise<string>;
  int64(values: readonly number[], dims?: readonly number[]): string;
}

type RowReader = (firstRow: number, rowCount: number) => Promise<Float32Array>;

export interface QuantizingWeightEncodingOptions {
  /** How Linear weights are stored: `q4` MatMulNBits, or `fp32` (left as MatMul). Default q4. */
  linear?: 'q4' | 'fp32';
  /** How embedding tables are stored: `q8` int8 rows + per-row scales, or `fp32`. Default q8. */
  tables?: 'q8' | 'fp32';
  /** MatMulNBits block size along K (default 32, as onnx-community's q4 files). */
  blockSize?: number;
  /** MatMulNBits zero points: false (default) stores one per block, true uses the implicit 8. */
  symmetric?: boolean;
  /**
   * MatMulNBits accuracy_level: 0 (default, what onnx-community's files carry) computes in
   * float32; 4 quantizes activations to int8 on CPU (faster there; see the package README).
   */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Weights and tables with a side shorter than this stay float32 (default 16, as the q4/q8
   * passes: AltUp's 4-wide coefficient and router weights stay float).
   */
  minimumDimension?: number;
  /** Float32 bytes read per `readRows` call (default 64 MiB). */
  chunkBytes?: number;
  /**
   * Linear weights with more outputs than this are split into several MatMulNBits over column
   * ranges, joined by a Concat (default: never). onnxruntime prepacks each weight while its
   * stored form is still mapped, so the largest single weight (E2B's 262,400-wide lm_head) sets
   * a transient on top of the session's memory; splitting it bounds that transient.
   */
  maximumOutputsPerNode?: number;
}

export interface QuantizingWeightEncoding {
  readonly opsetImports: readonly { domain: string; version: number }[];
  linear(request: { scope: EncodingGraphScope; name: string; input: string; inFeatures: number; outFeatures: number; readRows: RowReader }): Promise<string | null>;
  gather(request: { scope: EncodingGraphScope; name: string; indices: string; rows: number; columns: number; readRows: RowReader }): Promise<string | null>;
}

const MICROSOFT_DOMAIN = 'com.microsoft';
const DEFAULT_MINIMUM_DIMENSION = 16;
const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

export function quantizingWeightEncoding(options: QuantizingWeightEncodingOptions = {}): QuantizingWeightEncoding {
  const blockSize = options.blockSize ?? 32;
  const symmetric = options.symmetric ?? false;
  const accuracyLevel = options.accuracyLevel ?? 0;
  const minimumDimension = options.minimumDimension ?? DEFAULT_MINIMUM_DIMENSION;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  createMatMulNBitsWeights(blockSize, 1, { blockSize, symmetric }); // validates the block size up front
  const rowsPerChunk = (columns: number) => Math.max(1, Math.floor(chunkBytes / 4 / columns));

  return {
    opsetImports: [{ domain: MICROSOFT_DOMAIN, version: 1 }],

    async linear({ scope, name, input, inFeatures, outFeatures, readRows }) {
      if ((options.linear ?? 'q4') === 'fp32' || Math.min(inFeatures, outFeatures) < minimumDimension) return null;
      const perNode = Math.min(outFeatures, options.maximumOutputsPerNode ?? outFeatures);
      const parts: string[] = [];
      for (let start = 0; start < outFeatures; start += perNode) {
        const count = Math.min(perNode, outFeatures - start);
        const suffix = perNode === outFeatures ? '' : `_${parts.length}`;
        // Rows of W [out, in] are MatMulNBits columns: quantized in file order, no transpose.
        const target = createMatMulNBitsWeights(inFeatures, count, { blockSize, symmetric });
        const step = rowsPerChunk(inFeatures);
        for (let first = 0; first < count; first += step) {
          quantizeMatMulNBitsColumns(target, await readRows(start + first, Math.min(step, count - first)), first, { blockSize, symmetric });
        }
        const inputs = [input, ...(await storeMatMulNBits(scope, `${name}/weight_Q4${suffix}`, target))];
        parts.push(
          scope.op('MatMulNBits', inputs, {
            name: `${name}/MatMulNBits${suffix}`,
            domain: MICROSOFT_DOMAIN,
            attributes: { K: inFeatures, N: count, bits: 4, block_size: blockSize, accuracy_level: accuracyLevel },
          }),
        );
      }
      if (parts.length === 1) return parts[0]!;
      return scope.op('Concat', parts, { name: `${name}/ConcatOutputs`, attributes: { axis: -1 } });
    },

    async gather({ scope, name, indices, rows, columns, readRows }) {
      if ((options.tables ?? 'q8') === 'fp32' || Math.min(rows, columns) < minimumDimension) return null;
      const scales = new Float32Array(rows);
      const step = rowsPerChunk(columns);
      // Scales are complete only once the codes have streamed, so the codes are stored first.
      async function* codes(): AsyncGenerator<Uint8Array> {
        for (let first = 0; first < rows; first += step) {
          const count = Math.min(step, rows - first);
          const block = await readRows(first, count);
          const maxima = new Float32Array(count);
          accumulateAbsoluteMaxima(block, columns, 'per-row', maxima);
          const blockScales = int8ScalesFromMaxima(maxima);
          scales.set(blockScales, first);
          const quantized = quantizeInt8Rows(block, columns, 'per-row', blockScales, 0);
          yield new Uint8Array(quantized.buffer, quantized.byteOffset, quantized.byteLength);
        }
      }
      const data = await scope.initializer(`${name}/weight_quantized`, 'int8', [rows, columns], { byteLength: rows * columns, chunks: codes() });
      const scaleTable = await scope.initializer(`${name}/weight_quantized_scales`, 'float32', [rows], scales);
      // Gather(int8 rows) → Cast, times Gather(row scales) → Unsqueeze(−1): the form the
      // q8 pass writes and `offload-ple` reads, with only the gathered rows ever widened.
      const gathered = scope.op('Gather', [data, indices], { name: `${name}/GatherRows`, attributes: { axis: 0 } });
      const widened = scope.op('Cast', [gathered], { name: `${name}/CastRows`, attributes: { to: 1 } });
      const rowScales = scope.op('Gather', [scaleTable, indices], { name: `${name}/GatherScales`, attributes: { axis: 0 } });
      const lastAxis = scope.op('Unsqueeze', [rowScales, scope.int64([-1])], { name: `${name}/UnsqueezeScales` });
      return scope.op('Mul', [widened, lastAxis], { name: `${name}/Dequantize` });
    },
  };
}

async function storeMatMulNBits(scope: EncodingGraphScope, base: string, target: MatMulNBitsWeights): Promise<string[]> {
  const names = [
    await scope.initializer(base, 'uint8', [target.n, target.blocksPerColumn, target.blockSize / 2], target.data),
    await scope.initializer(`${base}_scales`, 'float32', [target.n * target.blocksPerColumn], target.scales),
  ];
  if (target.zeroPoints) names.push(await scope.initializer(`${base}_zero_points`, 'uint8', [target.zeroPoints.length], target.zeroPoints));
  return names;
}
