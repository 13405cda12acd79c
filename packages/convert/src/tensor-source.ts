/**
 * Where graph builders get weights from. A safetensors checkpoint, an in-memory map of random
 * weights and a test fixture all implement it, so builders never care where bytes live.
 * `read` returns float32 values whatever the stored dtype (bf16 and f16 are widened).
 */
export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: 'F32' | 'F16' | 'BF16';
}

export interface TensorSource {
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** Reads one tensor, widened to float32. Implementations read only this tensor's bytes. */
  read(name: string): Promise<Float32Array>;
  /**
   * Reads rows [firstRow, firstRow + rowCount) along the first dimension, widened to float32,
   * without reading the rest: for tables too large to hold whole (E2B's per-layer embedding
   * is 2.0 G values, 8 GB as float32). Optional; `readTensorRows` falls back to `read`.
   */
  readRows?(name: string, firstRow: number, rowCount: number): Promise<Float32Array>;
  names(): string[];
}

/** Rows of a tensor through `readRows` when the source has it, else by slicing `read`. */
export async function readTensorRows(
  source: TensorSource,
  name: string,
  firstRow: number,
  rowCount: number,
): Promise<Float32Array> {
  if (source.readRows !== undefined) return source.readRows(name, firstRow, rowCount);
  const { shape } = source.info(name);
  const rowSize = checkRowRange(name, shape, firstRow, rowCount);
  return (await source.read(name)).slice(firstRow * rowSize, (firstRow + rowCount) * rowSize);
}

/** Checks a row range against a shape and returns the number of values per row. */
export function checkRowRange(name: string, shape: readonly number[], firstRow: number, rowCount: number): number {
  const rows = shape[0] ?? 1;
  if (!Number.isInteger(firstRow) || !Number.isInteger(rowCount) || firstRow < 0 || rowCount < 0 || firstRow + rowCount > rows) {
    throw new RangeError(
      `tensor ${name}: rows [${firstRow}, ${firstRow + rowCount}) are outside its ${rows} rows (shape [${shape.join(', ')}])`,
    );
  }
  return shape.slice(1).reduce((product, size) => product * size, 1);
}

/** A TensorSource over float32 arrays already in memory (random test weights). */
export class InMemoryTensorSource implements TensorSource {
  private readonly tensors = new Map<string, { shape: number[]; data: Float32Array }>();

  set(name: string, shape: number[], data: Float32Array): this {
    const expected = shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`tensor ${name}: shape [${shape.join(', ')}] needs ${expected} values, got ${data.length}`);
    }
    this.tensors.set(name, { shape, data });
    return this;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const tensor = this.tensors.get(name);
    if (!tensor) throw new Error(`tensor ${name} is not in this source`);
    return { name, shape: tensor.shape, dtype: 'F32' };
  }

  async read(name: string): Promise<Float32Array> {
    const tensor = this.tensors.get(name);
    if (!tensor) throw new Error(`tensor ${name} is not in this source`);
    return tensor.data;
  }

  async readRows(name: string, firstRow: number, rowCount: number): Promise<Float32Array> {
    const tensor = this.tensors.get(name);
    if (!tensor) throw new Error(`tensor ${name} is not in this source`);
    const rowSize = checkRowRange(name, tensor.shape, firstRow, rowCount);
    return tensor.data.slice(firstRow * rowSize, (firstRow + rowCount) * rowSize);
  }

  /** Synchronous access for in-memory users such as the reference forward pass. */
  get(name: string): Float32Array {
    const tensor = this.tensors.get(name);
    if (!tensor) throw new Error(`tensor ${name} is not in this source`);
    return tensor.data;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }
}
