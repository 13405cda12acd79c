/**
 * Binary min-heap of pending merges for long words. A merge is stored as one float64 key
 * `rank · 2^32 + position`, so the smallest key is the lowest rank and, among equal ranks, the
 * leftmost position: exactly Hugging Face's merge order. Keys stay exact integers below 2^53 for
 * ranks under 2^21 and positions under 2^32.
 */
export const positionScale = 4294967296;

export class MergeQueue {
  private keys = new Float64Array(256);
  private length = 0;

  get size(): number {
    return this.length;
  }

  clear(): void {
    this.length = 0;
  }

  push(rank: number, position: number): void {
    if (this.length === this.keys.length) {
      const grown = new Float64Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    const keys = this.keys;
    const key = rank * positionScale + position;
    let index = this.length++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentKey = keys[parent]!;
      if (parentKey <= key) break;
      keys[index] = parentKey;
      index = parent;
    }
    keys[index] = key;
  }

  /** Removes and returns the smallest key; call only when `size > 0`. */
  pop(): number {
    const keys = this.keys;
    const top = keys[0]!;
    const last = keys[--this.length]!;
    const length = this.length;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && keys[right]! < keys[child]!) child = right;
      if (keys[child]! >= last) break;
      keys[index] = keys[child]!;
      index = child;
    }
    keys[index] = last;
    return top;
  }
}
