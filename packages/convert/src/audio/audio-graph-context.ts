import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import type { TensorSource } from '../tensor-source';

/** Progress of the audio graph: `done` of `total` checkpoint tensors written. */
export interface AudioGraphProgress {
  stage: 'audio_encoder';
  done: number;
  total: number;
}

/**
 * The graph, the checkpoint and a progress counter, shared by the audio block builders. Each
 * weight is read when its node is added, so at full size one tensor at a time is in memory.
 */
export class AudioGraphContext {
  private done = 0;

  constructor(
    readonly graph: OnnxGraphBuilder,
    readonly weights: TensorSource,
    readonly totalTensors: number,
    private readonly onProgress: ((event: AudioGraphProgress) => void) | undefined,
  ) {}

  /** Reads a checkpoint tensor after checking its shape against the one the config implies. */
  async read(name: string, expectedShape: readonly number[]): Promise<Float32Array> {
    if (!this.weights.has(name)) {
      throw new Error(`checkpoint tensor ${name} is missing (expected shape [${expectedShape.join(', ')}])`);
    }
    const shape = this.weights.info(name).shape;
    if (shape.length !== expectedShape.length || shape.some((size, index) => size !== expectedShape[index])) {
      throw new Error(`checkpoint tensor ${name} has shape [${shape.join(', ')}], but the config implies [${expectedShape.join(', ')}]`);
    }
    const data = await this.weights.read(name);
    this.done++;
    this.onProgress?.({ stage: 'audio_encoder', done: this.done, total: this.totalTensors });
    return data;
  }

  /** A checkpoint tensor as an initializer of the given ONNX shape (same element order). */
  async tensor(scope: GraphScope, initializerName: string, weightName: string, checkpointShape: readonly number[], onnxShape: readonly number[] = checkpointShape): Promise<string> {
    return scope.initializer(initializerName, 'float32', onnxShape, await this.read(weightName, checkpointShape));
  }

  /**
   * `x · Wᵀ` for a Hugging Face Linear weight W `[out, in]`: the initializer holds Wᵀ
   * `[in, out]` so the node is a plain MatMul.
   */
  async linear(scope: GraphScope, name: string, x: string, weightName: string, inFeatures: number, outFeatures: number): Promise<string> {
    const weight = await this.transposedWeight(scope, `${name}/weight`, weightName, inFeatures, outFeatures);
    return scope.op('MatMul', [x, weight], { name: `${name}/MatMul` });
  }

  /** The initializer Wᵀ `[in, out]` of a Linear weight, for weights used by several nodes. */
  async transposedWeight(scope: GraphScope, initializerName: string, weightName: string, inFeatures: number, outFeatures: number): Promise<string> {
    const weight = await this.read(weightName, [outFeatures, inFeatures]);
    return scope.initializer(initializerName, 'float32', [inFeatures, outFeatures], transpose(weight, outFeatures, inFeatures));
  }
}

/** The transpose of a row-major `[rows, columns]` matrix. Audio weights are at most 36 MiB. */
export function transpose(source: Float32Array, rows: number, columns: number): Float32Array {
  const output = new Float32Array(source.length);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) output[column * rows + row] = source[row * columns + column]!;
  }
  return output;
}

/**
 * RMSNorm over the last axis, `x / sqrt(mean(x²) + eps) · w`, in HF's order (divide by the
 * root, then scale); `weight` null for `with_scale=False`.
 */
export function rmsNorm(scope: GraphScope, name: string, x: string, weight: string | null, epsilon: number): string {
  const norm = scope.scope(name);
  const squared = norm.op('Mul', [x, x], { name: 'Square' });
  const meanSquare = norm.op('ReduceMean', [squared, norm.int64([-1])], { name: 'ReduceMean', attributes: { keepdims: 1 } });
  const root = norm.op('Sqrt', [norm.op('Add', [meanSquare, norm.float32(epsilon)], { name: 'AddEpsilon' })], { name: 'Sqrt' });
  const normalized = norm.op('Div', [x, root], { name: 'Div' });
  return weight === null ? normalized : norm.op('Mul', [normalized, weight], { name: 'Scale' });
}

/** `x · sigmoid(x)`, written with plain ops (no com.microsoft fusion needed on any EP). */
export function silu(scope: GraphScope, name: string, x: string): string {
  return scope.op('Mul', [x, scope.op('Sigmoid', [x], { name: `${name}/Sigmoid` })], { name: `${name}/Mul` });
}

/** Element `index` of `Shape(x)` as an int64 scalar. */
export function dimensionOf(scope: GraphScope, name: string, x: string, index: number): string {
  const shape = scope.op('Shape', [x], { name: `${name}/Shape` });
  return scope.op('Gather', [shape, scope.int64([index], [])], { name: `${name}/Gather`, attributes: { axis: 0 } });
}
