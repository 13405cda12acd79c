import type { TensorSource } from '../tensor-source';
import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import { rowBlocks, supportsRowReads } from './row-range-source';

/** Progress of one graph: `done` of `total` checkpoint tensors written. */
export interface TextGraphProgress {
  stage: string;
  done: number;
  total: number;
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
  ) {}

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
      chunks: rowBlocks(this.weights, weightName, rows, columns),
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
    const weight = await this.read(weightName, [outFeatures, inFeatures]);
    const transposed = await scope.initializer(`${name}/weight`, 'float32', [inFeatures, outFeatures], {
      byteLength: inFeatures * outFeatures * 4,
      chunks: transposedRowBlocks(weight, outFeatures, inFeatures),
    });
    return scope.op('MatMul', [x, transposed], { name: `${name}/MatMul` });
  }

  /** Creates an initializer of Wᵀ without a node (for weights used by several nodes). */
  async transposedWeight(scope: GraphScope, name: string, weightName: string, inFeatures: number, outFeatures: number): Promise<string> {
    const weight = await this.read(weightName, [outFeatures, inFeatures]);
    return scope.initializer(name, 'float32', [inFeatures, outFeatures], {
      byteLength: inFeatures * outFeatures * 4,
      chunks: transposedRowBlocks(weight, outFeatures, inFeatures),
    });
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
