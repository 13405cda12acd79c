import { parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { checkRowRange, type TensorInfo, type TensorSource } from '../tensor-source';
import { expectedCheckpointTensors, TEXT_PREFIX, type ExpectedTensor } from './expected-checkpoint-tensors';
import { tensorDistribution } from './random-checkpoint-weights';
import { RandomNumberGenerator, tensorSeed } from './random-number-generator';

/**
 * Rows drawn from one seeded stream. Each group of rows has a stream of its own, so any row
 * range can be produced without drawing the rows before it.
 */
const ROWS_PER_STREAM = 64;

/**
 * A random Gemma 3n text checkpoint that exists only as a function: every tensor of
 * `expectedCheckpointTensors` is generated when it is read, deterministically in (seed, name,
 * row group), from the distributions of `randomCheckpointWeights` (same means and spreads, other
 * values). Reading rows generates only those rows, so a full-size E2B checkpoint (5.4 G values,
 * 21 GB as float32) feeds the converter with one block of rows in memory at a time — how the
 * benchmark folders are written without a 20 GB intermediate. Text tensors only.
 */
export class SyntheticTensorSource implements TensorSource {
  private readonly config: Gemma3nConfig;
  private readonly tensors = new Map<string, ExpectedTensor>();

  constructor(
    rawConfig: Record<string, unknown>,
    private readonly seed: number,
  ) {
    this.config = parseGemma3nConfig(rawConfig);
    for (const tensor of expectedCheckpointTensors(this.config)) this.tensors.set(tensor.name, tensor);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const tensor = this.tensor(name);
    return { name, shape: [...tensor.shape], dtype: 'F32' };
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  async read(name: string): Promise<Float32Array> {
    const tensor = this.tensor(name);
    return this.readRows(name, 0, tensor.shape.length === 1 ? 1 : tensor.shape[0]!);
  }

  async readRows(name: string, firstRow: number, rowCount: number): Promise<Float32Array> {
    const tensor = this.tensor(name);
    const shape = tensor.shape.length === 1 ? [1, tensor.shape[0]!] : tensor.shape;
    const rowSize = checkRowRange(name, shape, firstRow, rowCount);
    const result = new Float32Array(rowCount * rowSize);
    const { mean, standardDeviation } = tensorDistribution(this.config, tensor);
    const copiesPadRow = name === `${TEXT_PREFIX}embed_tokens.weight`;
    const { vocabSizePerLayerInput, padTokenId } = this.config.text;
    const padRow = copiesPadRow ? this.generateRows(tensor, padTokenId, 1, rowSize, mean, standardDeviation) : null;
    let row = firstRow;
    const end = firstRow + rowCount;
    while (row < end) {
      if (padRow && row >= vocabSizePerLayerInput) {
        // Multimodal ids above the per-layer vocabulary copy the pad row, as in the releases.
        result.set(padRow, (row - firstRow) * rowSize);
        row++;
        continue;
      }
      const groupEnd = Math.min(end, (Math.floor(row / ROWS_PER_STREAM) + 1) * ROWS_PER_STREAM, padRow ? Math.max(row + 1, vocabSizePerLayerInput) : end);
      result.set(this.generateRows(tensor, row, groupEnd - row, rowSize, mean, standardDeviation), (row - firstRow) * rowSize);
      row = groupEnd;
    }
    return result;
  }

  /** Rows [first, first + count) of one row group's stream (they must share the group). */
  private generateRows(tensor: ExpectedTensor, first: number, count: number, rowSize: number, mean: number, standardDeviation: number): Float32Array {
    const group = Math.floor(first / ROWS_PER_STREAM);
    const random = new RandomNumberGenerator(tensorSeed(this.seed, `${tensor.name}#${group}`));
    const skip = (first - group * ROWS_PER_STREAM) * rowSize;
    for (let index = 0; index < skip; index++) random.uniform();
    const values = new Float32Array(count * rowSize);
    return random.fillUniformWithMoments(values, mean, standardDeviation);
  }

  private tensor(name: string): ExpectedTensor {
    const tensor = this.tensors.get(name);
    if (!tensor) throw new Error(`tensor ${name} is not in this synthetic checkpoint`);
    return tensor;
  }
}
