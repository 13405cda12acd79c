import type { TensorSource } from '../tensor-source';
import type { GraphScope, OnnxGraphBuilder, WriteAt } from '../onnx/onnx-graph-builder';
import { DEFAULT_ROW_BLOCK_BYTES, readRowBlocks, rowBlocks, supportsRowReads, tensorRowReader } from './row-range-source';
import type { WeightEncoding, WeightRowReader } from './weight-encoding';

/** Progress of one graph: `done` of `total` checkpoint tensors written. */
export interface TextGraphProgress {
  stage: string;
  done: number;
  total: number;
}

/** Options shared by the graph builders. */
export interface TextGraphBuildOptions {
  onProgress?: (event: TextGraphProgress) => void;
  /** See TextGraphContext: Linear weights at least this large are transposed from row reads. */
  rowStreamingMinimumBytes?: number;
  /** Bytes per `readRows` call (default 64 MiB). */
  rowBlockBytes?: number;
  /**
   * Stores Linear weights and embedding tables in another form (e.g. quantized) as they are
   * written, instead of float32 (see weight-encoding.ts). Default: float32.
   */
  weightEncoding?: WeightEncoding;
}

/**
 * What every block builder needs: the graph, the checkpoint and a progress counter. Builders
 * read each weight when they add its node, so weights stream from the checkpoint to the
 * external data file one at a time.
 */
export class TextGraphContext {
  private done = 0;

  constructor(
    readonly graph: OnnxGraphBuilder,
    readonly weights: TensorSource,
    readonly stage: string,
    readonly totalTensors: number,
    private readonly onProgress: ((event: TextGraphProgress) => void) | undefined,
    /**
     * Linear weights at least this large are transposed from row blocks (`readRows`) when the
     * source offers it, instead of being read whole. Default 256 MiB: only the tied lm_head
     * (2.1 GB for E2B) and similar giants pay for the scattered writes this takes.
     */
    private readonly rowStreamingMinimumBytes = DEFAULT_ROW_STREAMING_MINIMUM_BYTES,
    private readonly rowBlockBytes = DEFAULT_ROW_BLOCK_BYTES,
    private readonly weightEncoding: WeightEncoding | undefined = undefined,
  ) {}

  /** A context for `options`: the progress callback, row streaming and weight encoding. */
  static create(graph: OnnxGraphBuilder, weights: TensorSource, stage: string, totalTensors: number, options: TextGraphBuildOptions): TextGraphContext {
    return new TextGraphContext(graph, weights, stage, totalTensors, options.onProgress, options.rowStreamingMinimumBytes, options.rowBlockBytes, options.weightEncoding);
  }

  /**
   * A row reader over a checkpoint tensor (after checking its shape): row ranges straight from
   * the source when it can, else slices of one whole read kept for the following calls.
   */
  private rowReader(weightName: string, rows: number, columns: number): WeightRowReader {
    this.checkShape(weightName, [rows, columns]);
    return tensorRowReader(this.weights, weightName, columns);
  }

  /**
   * `table[indices]` for a checkpoint table [rows, columns]: through the weight encoding when it
   * takes the table, else a float32 initializer (see `table`) and a Gather.
   */
  async gather(scope: GraphScope, initializerName: string, weightName: string, rows: number, columns: number, indices: string): Promise<string> {
    if (this.weightEncoding?.gather) {
      const readRows = this.rowReader(weightName, rows, columns);
      const encoded = await this.weightEncoding.gather({ scope, name: 'Gather', indices, rows, columns, readRows });
      if (encoded !== null) {
        this.countTensor();
        return encoded;
      }
    }
    const table = await this.table(scope, initializerName, weightName, rows, columns);
    return scope.op('Gather', [table, indices], { attributes: { axis: 0 } });
  }

  /** Reads a checkpoint tensor after checking that its shape is the one the config implies. */
  async read(name: string, expectedShape: readonly number[]): Promise<Float32Array> {
    this.checkShape(name, expectedShape);
    const data = await this.weights.read(name);
    const expectedCount = expectedShape.reduce((product, dim) => product * dim, 1);
    if (data.length !== expectedCount) {
      throw new Error(`checkpoint tensor ${name}: read ${data.length} values, expected ${expectedCount}`);
    }
    this.countTensor();
    return data;
  }

  /**
   * A 2-D table (embedding) as an initializer with the checkpoint's layout. Streamed in row
   * blocks when the source can read row ranges, so an 8 GB table never sits in memory whole.
   */
  async table(scope: GraphScope, initializerName: string, weightName: string, rows: number, columns: number): Promise<string> {
    if (!supportsRowReads(this.weights)) {
      return scope.initializer(initializerName, 'float32', [rows, columns], await this.read(weightName, [rows, columns]));
    }
    this.checkShape(weightName, [rows, columns]);
    const name = await scope.initializer(initializerName, 'float32', [rows, columns], {
      byteLength: rows * columns * 4,
      chunks: rowBlocks(tensorRowReader(this.weights, weightName, columns), rows, columns, this.rowBlockBytes),
    });
    this.countTensor();
    return name;
  }

  private countTensor(): void {
    this.done++;
    this.onProgress?.({ stage: this.stage, done: this.done, total: this.totalTensors });
  }

  private checkShape(name: string, expectedShape: readonly number[]): void {
    if (!this.weights.has(name)) {
      throw new Error(`checkpoint tensor ${name} is missing (expected shape [${expectedShape.join(', ')}])`);
    }
    const shape = this.weights.info(name).shape;
    if (shape.length !== expectedShape.length || shape.some((dim, index) => dim !== expectedShape[index])) {
      throw new Error(
        `checkpoint tensor ${name} has shape [${shape.join(', ')}], but the config implies [${expectedShape.join(', ')}]`,
      );
    }
  }

  /** A checkpoint vector (norm weight, scale) as a float32 initializer. */
  async vector(scope: GraphScope, initializerName: string, weightName: string, length: number): Promise<string> {
    const data = await this.read(weightName, [length]);
    return scope.initializer(initializerName, 'float32', [length], data);
  }

  /**
   * `x · Wᵀ` for a Hugging Face Linear weight W [out, in]. The initializer holds Wᵀ [in, out]
   * so the node is a plain MatMul; it is transposed in row blocks straight into the external
   * data, so no second full-size copy of a large weight is ever built.
   */
  async linear(scope: GraphScope, name: string, x: string, weightName: string, inFeatures: number, outFeatures: number): Promise<string> {
    if (this.weightEncoding?.linear) {
      const readRows = this.rowReader(weightName, outFeatures, inFeatures);
      const encoded = await this.weightEncoding.linear({ scope, name, input: x, inFeatures, outFeatures, readRows });
      if (encoded !== null) {
        this.countTensor();
        return encoded;
      }
    }
    const transposed = await this.transposedWeight(scope, `${name}/weight`, weightName, inFeatures, outFeatures);
    return scope.op('MatMul', [x, transposed], { name: `${name}/MatMul` });
  }

  /** Creates an initializer of Wᵀ [in, out] for a checkpoint Linear weight W [out, in]. */
  async transposedWeight(scope: GraphScope, name: string, weightName: string, inFeatures: number, outFeatures: number): Promise<string> {
    const byteLength = inFeatures * outFeatures * 4;
    const weights = this.weights;
    if (supportsRowReads(weights) && byteLength >= this.rowStreamingMinimumBytes) {
      this.checkShape(weightName, [outFeatures, inFeatures]);
      const initializer = await scope.initializer(name, 'float32', [inFeatures, outFeatures], {
        byteLength,
        fill: (writeAt: WriteAt) => writeTransposeFromRowBlocks(tensorRowReader(weights, weightName, inFeatures), outFeatures, inFeatures, this.rowBlockBytes, writeAt),
      });
      this.countTensor();
      return initializer;
    }
    const weight = await this.read(weightName, [outFeatures, inFeatures]);
    return scope.initializer(name, 'float32', [inFeatures, outFeatures], {
      byteLength,
      chunks: transposedRowBlocks(weight, outFeatures, inFeatures),
    });
  }
}

export const DEFAULT_ROW_STREAMING_MINIMUM_BYTES = 256 * 1024 * 1024;

/**
 * Writes Wᵀ [columns, rows] of a row-major W [rows, columns] read a block of rows at a time:
 * rows [r0, r1) of W are, for every column c, the contiguous run Wᵀ[c, r0:r1].
 */
async function writeTransposeFromRowBlocks(
  readRows: WeightRowReader,
  rows: number,
  columns: number,
  blockBytes: number,
  writeAt: WriteAt,
): Promise<void> {
  for await (const { first, count, values: block } of readRowBlocks(readRows, rows, columns, blockBytes)) {
    const run = new Float32Array(count);
    const runBytes = new Uint8Array(run.buffer);
    for (let column = 0; column < columns; column++) {
      for (let row = 0; row < count; row++) run[row] = block[row * columns + column]!;
      await writeAt((column * rows + first) * 4, runBytes);
    }
  }
}

/** About 16 MiB per block: large enough to write efficiently, small next to any real weight. */
const TRANSPOSE_BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * Yields the bytes of the transpose of a row-major [rows, columns] matrix, a block of output
 * rows at a time.
 */
export function* transposedRowBlocks(source: Float32Array, rows: number, columns: number): Generator<Uint8Array> {
  const outputRowsPerBlock = Math.max(1, Math.floor(TRANSPOSE_BLOCK_BYTES / 4 / Math.max(rows, 1)));
  for (let start = 0; start < columns; start += outputRowsPerBlock) {
    const end = Math.min(columns, start + outputRowsPerBlock);
    const block = new Float32Array((end - start) * rows);
    for (let row = 0; row < rows; row++) {
      const rowOffset = row * columns;
      for (let column = start; column < end; column++) block[(column - start) * rows + row] = source[rowOffset + column]!;
    }
    yield new Uint8Array(block.buffer);
  }
}

/**
 * Builds an RMSNorm over the last axis of `x` with scale `weight`: `rmsNorm` below (plain ops,
 * the compat profile) or one SimplifiedLayerNormalization node (the optimized profile).
 */
export type RmsNormBuilder = (scope: GraphScope, name: string, x: string, weight: string, epsilon: number) => string;

/**
 * RMSNorm over the last axis, `x / sqrt(mean(x²) + eps) · w`, written with plain ops in the
 * same order as Hugging Face (divide by the root, then scale), without the Gemma 1–3 `1 + w`.
 * `weight` null means no scale (`with_scale=False`).
 */
export function rmsNorm(scope: GraphScope, name: string, x: string, weight: string | null, epsilon: number): string {
  const norm = scope.scope(name);
  const squared = norm.op('Mul', [x, x], { name: 'Square' });
  const meanSquare = norm.op('ReduceMean', [squared, norm.int64([-1])], { name: 'ReduceMean', attributes: { keepdims: 1 } });
  const shifted = norm.op('Add', [meanSquare, norm.float32(epsilon)], { name: 'AddEpsilon' });
  const root = norm.op('Sqrt', [shifted], { name: 'Sqrt' });
  const normalized = norm.op('Div', [x, root], { name: 'Div' });
  return weight === null ? normalized : norm.op('Mul', [normalized, weight], { name: 'Scale' });
}

/** sqrt(mean(x², last axis)) keeping the axis: the AltUp stream magnitude. */
export function rootMeanSquare(scope: GraphScope, name: string, x: string): string {
  const squared = scope.op('Mul', [x, x], { name: `${name}/Square` });
  const mean = scope.op('ReduceMean', [squared, scope.int64([-1])], { name: `${name}/ReduceMean`, attributes: { keepdims: 1 } });
  return scope.op('Sqrt', [mean], { name: `${name}/Sqrt` });
}

/** gelu with the tanh approximation (`gelu_pytorch_tanh`), ONNX Gelu-20. */
export function geluTanh(scope: GraphScope, name: string, x: string): string {
  return scope.op('Gelu', [x], { name, attributes: { approximate: 'tanh' } });
}
