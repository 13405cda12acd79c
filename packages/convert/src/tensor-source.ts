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
  names(): string[];
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
