import { Tensor } from 'onnxruntime-common';
import { truncateAxis2 } from './tensor-data';

/**
 * The decoder's past: one tensor per declared `past_key_values.*` input, and the ids of the
 * tokens it holds. Only the layers the graph declares are stored; with our converted models
 * those are the `L − num_kv_shared_layers` non-shared layers (architecture §1.7).
 */
export class KvCache {
  /** Past tensors by decoder input name (`past_key_values.3.key`). */
  readonly tensors = new Map<string, Tensor>();
  /** Every token fed so far, in order; `length` of them. */
  readonly tokenIds: number[] = [];

  get length(): number {
    return this.tokenIds.length;
  }

  /**
   * Forgets everything after the first `length` tokens, so a new sequence that shares only
   * that prefix can continue from here.
   */
  truncate(length: number): void {
    if (length >= this.tokenIds.length) return;
    if (length <= 0) {
      this.clear();
      return;
    }
    this.tokenIds.length = length;
    for (const [name, tensor] of this.tensors) {
      // A tensor kept on the GPU (WebGPU backend) has no `.data` until it is downloaded, which
      // is asynchronous: its cut is recorded here and done by `settle()` before the next run.
      if (tensor.location === 'cpu') this.tensors.set(name, truncateAxis2(tensor, length));
      else this.pendingTensors.add(name);
    }
  }

  /** Applies truncations recorded for tensors that live outside CPU memory. */
  async settle(): Promise<void> {
    if (this.pendingTensors.size === 0) return;
    for (const name of this.pendingTensors) {
      const tensor = this.tensors.get(name)!;
      const values = (await tensor.getData(true)) as Float32Array | Uint16Array; // downloads and frees the GPU buffer
      const onCpu = new Tensor(tensor.type as 'float32', values as Float32Array, tensor.dims);
      this.tensors.set(name, truncateAxis2(onCpu, this.tokenIds.length));
    }
    this.pendingTensors.clear();
  }

  clear(): void {
    this.tokenIds.length = 0;
    for (const tensor of this.tensors.values()) if (tensor.location === 'gpu-buffer') tensor.dispose();
    this.tensors.clear();
    this.pendingTensors.clear();
  }

  private readonly pendingTensors = new Set<string>();
}

/** Length of the longest common prefix of two id sequences. */
export function commonPrefixLength(left: readonly number[], right: readonly number[]): number {
  const limit = Math.min(left.length, right.length);
  let index = 0;
  while (index < limit && left[index] === right[index]) index++;
  return index;
}
