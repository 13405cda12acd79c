import type { Tensor } from 'onnxruntime-common';
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
    for (const [name, tensor] of this.tensors) this.tensors.set(name, truncateAxis2(tensor, length));
  }

  clear(): void {
    this.tokenIds.length = 0;
    this.tensors.clear();
  }
}

/** Length of the longest common prefix of two id sequences. */
export function commonPrefixLength(left: readonly number[], right: readonly number[]): number {
  const limit = Math.min(left.length, right.length);
  let index = 0;
  while (index < limit && left[index] === right[index]) index++;
  return index;
}
